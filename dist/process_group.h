// Multi-process data parallelism over LibTorch's c10d.
//
// Distributed joins the process group of a launch (Gloo on CPU; NCCL when LibTorch was
// built with it and the job trains on CUDA). Rank 0 hosts the TCPStore rendezvous at
// MASTER_ADDR:MASTER_PORT. Gradients are averaged with AllReduceMean, which packs tensors
// into flat buckets of at most `bucket_bytes` so a model makes few, large collectives.
// Every collective has a timeout: a rank that died makes the others fail with a clear error
// instead of hanging. With world_size 1 every operation is a cheap no-op.
#ifndef EDGELOOP_DIST_PROCESS_GROUP_H_
#define EDGELOOP_DIST_PROCESS_GROUP_H_

#include <chrono>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dist/launch_env.h"

namespace edgeloop::dist {

class Distributed {
 public:
  struct Options {
    std::chrono::milliseconds timeout{std::chrono::seconds(120)};
    size_t bucket_bytes = 25u << 20;
    bool use_cuda = false;  // NCCL when available, else Gloo
  };

  static absl::StatusOr<std::unique_ptr<Distributed>> Init(const LaunchEnv& env,
                                                           const Options& options);
  ~Distributed();

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  bool is_primary() const { return env_.rank == 0; }
  const LaunchEnv& env() const { return env_; }
  std::string backend() const;

  // Replaces each tensor by its mean over all ranks (tensors of one dtype and device).
  absl::Status AllReduceMean(const std::vector<torch::Tensor>& tensors);
  // Replaces each tensor by its sum over all ranks (exact when one rank holds each value
  // and the others zeros: how scores are gathered).
  absl::Status AllReduceSum(const std::vector<torch::Tensor>& tensors);
  // Copies rank 0's tensors to every rank.
  absl::Status Broadcast(const std::vector<torch::Tensor>& tensors);
  absl::Status Barrier();

 private:
  Distributed(LaunchEnv env, Options options);
  absl::Status Collective(const char* what, const std::function<void()>& op);
  absl::Status AllReduce(const std::vector<torch::Tensor>& tensors, bool mean);

  struct Group;  // the c10d store and process group, kept out of this header

  LaunchEnv env_;
  Options options_;
  std::unique_ptr<Group> group_;
};

}  // namespace edgeloop::dist

#endif  // EDGELOOP_DIST_PROCESS_GROUP_H_
