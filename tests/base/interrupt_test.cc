// The interrupt handlers: the first SIGINT or SIGTERM sets the flag, a repeated SIGTERM is
// absorbed (a scheduler resends it), a second SIGINT forces the exit. Each case runs in a
// child process so that the test process keeps its own handlers.
#include "base/interrupt.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <functional>

#include "gtest/gtest.h"

namespace edgeloop {
namespace {

// The child's wait status after running `body` (its exit code is what body returns).
int InChild(const std::function<int()>& body) {
  const pid_t pid = fork();
  if (pid == 0) _exit(body());
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

TEST(InterruptTest, RepeatedSigtermIsAbsorbedAndASecondSigintForcesTheExit) {
  const int term_twice = InChild([] {
    InstallInterruptHandlers();
    if (Interrupted()) return 3;
    std::raise(SIGTERM);
    std::raise(SIGTERM);
    return Interrupted() && InterruptSignal() == SIGTERM ? 0 : 4;
  });
  ASSERT_TRUE(WIFEXITED(term_twice)) << term_twice;
  EXPECT_EQ(WEXITSTATUS(term_twice), 0);

  const int int_twice = InChild([] {
    InstallInterruptHandlers();
    std::raise(SIGINT);
    if (!Interrupted()) return 4;
    std::raise(SIGINT);  // the user insists: the default action ends the process
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(int_twice)) << int_twice;
  EXPECT_EQ(WTERMSIG(int_twice), SIGINT);

  const int term_then_int = InChild([] {
    InstallInterruptHandlers();
    std::raise(SIGTERM);
    std::raise(SIGINT);
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(term_then_int)) << term_then_int;
  EXPECT_EQ(WTERMSIG(term_then_int), SIGINT);
}

}  // namespace
}  // namespace edgeloop
