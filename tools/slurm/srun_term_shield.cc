// libedgeloop_srun_term_shield.so: preloaded into srun by tools/slurm/*.sbatch.
//
// srun answers a SIGTERM with SIGKILL for every task of its step ("forcing job
// termination"), and it resets inherited dispositions, so `trap '' TERM` cannot stop it.
// Slurm sends TERM to all processes of a job on scancel, scancel --full, preemption and the
// time limit, so the training ranks would die while they write their checkpoint. This shim
// takes SIGTERM out of the sets srun waits for with sigwait(3): the signal stays blocked
// and pending in srun, which goes on relaying the tasks' output and exit codes. The tasks
// get the TERM themselves (from Slurm, or forwarded by the job script) and exit after their
// checkpoint; Slurm's SIGKILL after KillWait still ends everything. Nothing else changes.
#include <dlfcn.h>
#include <signal.h>

namespace {

using SigwaitFn = int (*)(const sigset_t*, int*);

SigwaitFn RealSigwait() {
  static SigwaitFn real = reinterpret_cast<SigwaitFn>(dlsym(RTLD_NEXT, "sigwait"));
  return real;
}

}  // namespace

extern "C" int sigwait(const sigset_t* set, int* sig) {
  sigset_t without_term = *set;
  sigdelset(&without_term, SIGTERM);
  return RealSigwait()(&without_term, sig);
}
