#include "dist/launch_env.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace edgeloop::dist {
namespace {

absl::StatusOr<int> IntVar(const GetEnvFn& env, const char* name, int min_value) {
  const char* v = env(name);
  int out;
  if (v == nullptr || !absl::SimpleAtoi(v, &out) || out < min_value) {
    return absl::InvalidArgumentError(absl::StrCat("environment variable ", name, "='", v ? v : "",
                                                   "' is not an integer >= ", min_value));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> FirstSlurmHost(const std::string& nodelist) {
  // Grammar: host[,host...] where host = prefix[ranges]suffix? ; ranges = a[-b](,a[-b])*.
  size_t end = nodelist.size();
  int depth = 0;
  for (size_t i = 0; i < nodelist.size(); ++i) {
    if (nodelist[i] == '[') ++depth;
    if (nodelist[i] == ']') --depth;
    if (nodelist[i] == ',' && depth == 0) {
      end = i;
      break;
    }
  }
  std::string first = nodelist.substr(0, end);
  size_t open = first.find('[');
  if (open == std::string::npos) {
    if (first.empty()) return absl::InvalidArgumentError("SLURM_JOB_NODELIST is empty");
    return first;
  }
  size_t close = first.find(']', open);
  if (close == std::string::npos || open == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("SLURM_JOB_NODELIST='", nodelist, "' is not a Slurm host list"));
  }
  std::string ranges = first.substr(open + 1, close - open - 1);
  std::string lowest = ranges.substr(0, ranges.find_first_of(",-"));
  if (lowest.empty() || lowest.find_first_not_of("0123456789") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("SLURM_JOB_NODELIST='", nodelist, "' has a malformed range"));
  }
  return first.substr(0, open) + lowest + first.substr(close + 1);
}

absl::StatusOr<LaunchEnv> LaunchEnvFromEnvironment(const GetEnvFn& env) {
  LaunchEnv out;
  if (env("RANK") != nullptr || env("WORLD_SIZE") != nullptr) {
    out.source = "torchrun";
    auto rank = IntVar(env, "RANK", 0);
    auto world = IntVar(env, "WORLD_SIZE", 1);
    if (!rank.ok()) return rank.status();
    if (!world.ok()) return world.status();
    out.rank = *rank;
    out.world_size = *world;
    out.local_rank = out.rank;
    if (env("LOCAL_RANK") != nullptr) {
      auto local = IntVar(env, "LOCAL_RANK", 0);
      if (!local.ok()) return local.status();
      out.local_rank = *local;
    }
    if (const char* addr = env("MASTER_ADDR")) out.master_addr = addr;
  } else if (env("SLURM_PROCID") != nullptr) {
    out.source = "slurm";
    auto rank = IntVar(env, "SLURM_PROCID", 0);
    auto world = IntVar(env, "SLURM_NTASKS", 1);
    if (!rank.ok()) return rank.status();
    if (!world.ok()) return world.status();
    out.rank = *rank;
    out.world_size = *world;
    if (env("SLURM_LOCALID") != nullptr) {
      auto local = IntVar(env, "SLURM_LOCALID", 0);
      if (!local.ok()) return local.status();
      out.local_rank = *local;
    }
    if (const char* addr = env("MASTER_ADDR")) {
      out.master_addr = addr;
    } else if (const char* list = env("SLURM_JOB_NODELIST")) {
      auto host = FirstSlurmHost(list);
      if (!host.ok()) return host.status();
      out.master_addr = *host;
    } else if (out.world_size > 1) {
      return absl::InvalidArgumentError(
          "Slurm job with several tasks but neither MASTER_ADDR nor SLURM_JOB_NODELIST is set");
    }
    // One port per job so that jobs sharing a node do not collide.
    if (env("MASTER_PORT") == nullptr) {
      int job = 0;
      const char* id = env("SLURM_JOB_ID");
      if (id == nullptr || !absl::SimpleAtoi(id, &job) || job < 0) job = 0;
      out.master_port = 20000 + (job % 10000);
    }
  }
  if (const char* port = env("MASTER_PORT")) {
    int p;
    if (!absl::SimpleAtoi(port, &p) || p < 1 || p > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable MASTER_PORT='", port, "' is not a port number"));
    }
    out.master_port = p;
  }
  if (out.rank >= out.world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank ", out.rank, " is not below the world size ", out.world_size));
  }
  return out;
}

absl::StatusOr<LaunchEnv> LaunchEnvFromProcess() {
  return LaunchEnvFromEnvironment([](const char* name) { return std::getenv(name); });
}

}  // namespace edgeloop::dist
