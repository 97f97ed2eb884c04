#include "tools/pipeline/local_launch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace edgeloop::pipeline {
namespace {

absl::StatusOr<int> FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("cannot open a socket to pick MASTER_PORT");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  if (!ok) return absl::UnavailableError("cannot pick a free MASTER_PORT");
  return static_cast<int>(ntohs(addr.sin_port));
}

}  // namespace

absl::StatusOr<LocalRanks> LocalRanks::Start(int nproc, const std::vector<std::string>& args,
                                             const std::string& log_prefix) {
  if (nproc < 1) return absl::InvalidArgumentError("--nproc must be >= 1");
  absl::StatusOr<int> port = FreePort();
  if (!port.ok()) return port.status();
  LocalRanks ranks;
  ranks.log_prefix_ = log_prefix;
  ranks.rank0_.world_size = nproc;
  ranks.rank0_.master_addr = "127.0.0.1";
  ranks.rank0_.master_port = *port;
  ranks.rank0_.source = "local";
  for (int r = 1; r < nproc; ++r) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string var = *e;
      // A launcher's own variables must not leak into the ranks started here.
      if (var.rfind("SLURM_", 0) == 0 || var.rfind("RANK=", 0) == 0 ||
          var.rfind("WORLD_SIZE=", 0) == 0 || var.rfind("LOCAL_RANK=", 0) == 0 ||
          var.rfind("MASTER_", 0) == 0) {
        continue;
      }
      env.push_back(var);
    }
    env.push_back(absl::StrCat("RANK=", r));
    env.push_back(absl::StrCat("LOCAL_RANK=", r));
    env.push_back(absl::StrCat("WORLD_SIZE=", nproc));
    env.push_back("MASTER_ADDR=127.0.0.1");
    env.push_back(absl::StrCat("MASTER_PORT=", *port));
    std::vector<std::string> argv_text = {"edgeloop"};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv, envp;
    for (std::string& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (std::string& v : env) envp.push_back(v.data());
    envp.push_back(nullptr);
    const std::string log = absl::StrCat(log_prefix, r, ".log");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
      return absl::UnavailableError(absl::StrCat("cannot start rank ", r, ": ", std::strerror(rc)));
    ranks.pids_.push_back(pid);
  }
  return ranks;
}

absl::Status LocalRanks::Wait() {
  absl::Status first = absl::OkStatus();
  for (size_t k = 0; k < pids_.size(); ++k) {
    if (pids_[k] <= 0) continue;
    int status = 0;
    waitpid(pids_[k], &status, 0);
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && first.ok()) {
      first = absl::InternalError(
          absl::StrCat("rank ", k + 1, " failed; see ", log_prefix_, k + 1, ".log"));
    }
    pids_[k] = 0;
  }
  return first;
}

LocalRanks::~LocalRanks() {
  for (pid_t pid : pids_) {
    if (pid <= 0) continue;
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
  }
}

}  // namespace edgeloop::pipeline
