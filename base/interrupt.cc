#include "base/interrupt.h"

#include <atomic>
#include <csignal>

namespace edgeloop {
namespace {

std::atomic<int> g_signal{0};

// A repeated SIGTERM is not a request to force: batch systems send it more than once (Slurm
// to every process of a job and again from the job script's trap) while the state is saved.
extern "C" void OnSignal(int sig) {
  if (g_signal.load() != 0) {
    if (sig == SIGTERM) return;
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  g_signal.store(sig);
}

}  // namespace

void InstallInterruptHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool Interrupted() { return g_signal.load() != 0; }
int InterruptSignal() { return g_signal.load(); }
void ResetInterrupted() { g_signal.store(0); }

}  // namespace edgeloop
