// Where this process sits in a multi-process training job.
//
// Read from torchrun-style variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT) or, when those are absent, from Slurm (SLURM_PROCID, SLURM_NTASKS,
// SLURM_LOCALID, the first host of SLURM_JOB_NODELIST; the port derives from SLURM_JOB_ID
// unless MASTER_PORT is set). With neither, the job is a single process. Inconsistent or
// malformed values are InvalidArgument errors naming the variable.
#ifndef EDGELOOP_DIST_LAUNCH_ENV_H_
#define EDGELOOP_DIST_LAUNCH_ENV_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace edgeloop::dist {

struct LaunchEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string source = "single";  // "torchrun", "slurm" or "single"
};

using GetEnvFn = std::function<const char*(const char*)>;

absl::StatusOr<LaunchEnv> LaunchEnvFromEnvironment(const GetEnvFn& getenv_fn);
absl::StatusOr<LaunchEnv> LaunchEnvFromProcess();

// The first host of a Slurm node list such as "node[003-005,9],gpu17" -> "node003".
absl::StatusOr<std::string> FirstSlurmHost(const std::string& nodelist);

}  // namespace edgeloop::dist

#endif  // EDGELOOP_DIST_LAUNCH_ENV_H_
