// Multi-process training on one node without a launcher: `edgeloop pipeline --nproc N`
// starts ranks 1..N-1 as `edgeloop train ...` child processes with torchrun-style variables
// (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR=127.0.0.1, MASTER_PORT) and runs rank 0 in
// this process; on a cluster, Slurm or torchrun set those variables instead.
#ifndef EDGELOOP_TOOLS_PIPELINE_LOCAL_LAUNCH_H_
#define EDGELOOP_TOOLS_PIPELINE_LOCAL_LAUNCH_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dist/launch_env.h"

namespace edgeloop::pipeline {

class LocalRanks {
 public:
  // Starts ranks 1..nproc-1 running `edgeloop <args>`; each writes `<log_prefix><rank>.log`.
  static absl::StatusOr<LocalRanks> Start(int nproc, const std::vector<std::string>& args,
                                          const std::string& log_prefix);
  LocalRanks(LocalRanks&&) = default;
  ~LocalRanks();  // kills ranks still running
  // The environment rank 0 (this process) joins with.
  const dist::LaunchEnv& rank0() const { return rank0_; }
  // Waits for every child; an error names the first rank that failed and its log.
  absl::Status Wait();

 private:
  LocalRanks() = default;
  dist::LaunchEnv rank0_;
  std::vector<pid_t> pids_;
  std::string log_prefix_;
};

}  // namespace edgeloop::pipeline

#endif  // EDGELOOP_TOOLS_PIPELINE_LOCAL_LAUNCH_H_
