#include "tools/pipeline/local_edge.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/atomic_file.h"

extern char** environ;

namespace edgeloop::pipeline {

absl::StatusOr<std::unique_ptr<LocalEdgeServer>> LocalEdgeServer::Start(
    const std::string& log_path, const std::string& cache_path, int threads) {
  std::vector<std::string> args = {"edgeloop",    "serve",     "--listen",
                                   "127.0.0.1:0", "--threads", absl::StrCat(threads),
                                   "--cache",     cache_path,  "--sentinel-interval",
                                   "-1"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // Its own process group: a Ctrl-C on the pipeline is handled by the pipeline, which then
  // stops the server itself.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, "/proc/self/exe", &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    return absl::UnavailableError(absl::StrCat("cannot start the local edge server: errno ", rc));
  for (int i = 0; i < 300; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      return absl::UnavailableError(absl::StrCat("the local edge server exited; see ", log_path));
    }
    absl::StatusOr<std::string> log = ReadFile(log_path);
    if (!log.ok()) continue;
    const size_t at = log->find("ws://");
    if (at == std::string::npos) continue;
    const size_t end = log->find_first_of(" \n\t", at);
    return std::unique_ptr<LocalEdgeServer>(
        new LocalEdgeServer(pid, log->substr(at, end == std::string::npos ? end : end - at)));
  }
  ::kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return absl::UnavailableError(
      absl::StrCat("the local edge server did not start in 30 s; see ", log_path));
}

LocalEdgeServer::~LocalEdgeServer() {
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

}  // namespace edgeloop::pipeline
