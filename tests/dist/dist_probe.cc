// A worker process for the distributed tests: joins the job described by the environment
// and runs one scenario. Usage: dist_probe allreduce|die|broadcast TIMEOUT_MS
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dist/launch_env.h"
#include "dist/process_group.h"

using edgeloop::dist::Distributed;

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  const std::string mode = argv[1];
  auto env = edgeloop::dist::LaunchEnvFromProcess();
  if (!env.ok()) {
    std::fprintf(stderr, "%s\n", std::string(env.status().message()).c_str());
    return 2;
  }
  Distributed::Options options;
  options.timeout = std::chrono::milliseconds(std::atoi(argv[2]));
  options.bucket_bytes = 40;  // several buckets even for tiny tensors
  auto dist = Distributed::Init(*env, options);
  if (!dist.ok()) {
    std::fprintf(stderr, "%s\n", std::string(dist.status().message()).c_str());
    return 3;
  }
  const int rank = (*dist)->rank();
  if (mode == "die" && rank == 1) std::_Exit(0);  // vanish without a word
  torch::Tensor a = torch::full({3, 5}, static_cast<float>(rank + 1));
  torch::Tensor b = torch::arange(7, torch::kFloat) * static_cast<float>(rank + 1);
  absl::Status s;
  if (mode == "broadcast") {
    s = (*dist)->Broadcast({a, b});
  } else {
    s = (*dist)->AllReduceMean({a, b});
  }
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 4;
  }
  std::printf("rank %d backend %s a %.4f b %.4f\n", rank, (*dist)->backend().c_str(),
              a.sum().item<float>(), b.sum().item<float>());
  return 0;
}
