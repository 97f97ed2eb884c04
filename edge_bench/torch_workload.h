// The LibTorch Workload: the static Video Swin of supernet/video_swin.h with random
// weights, eval mode, inference mode, on the CPU or a CUDA GPU.
//
// MakeTorchWorkloadFactory sets the intra-op thread count (process-wide) and checks the
// device: "cuda" needs a LibTorch built with CUDA and a visible GPU (checked at run time,
// so the CPU-only Debian LibTorch builds the same code). On a GPU every run ends with
// torch::cuda::synchronize, so the time covers the kernels, not just their launch.
// Peak memory on the CPU is the process RSS high-water mark during the runs of a batch
// size minus the RSS before the model was built (weights + activations + allocator slack);
// on a GPU it is not measured (0).
#ifndef EDGELOOP_EDGE_BENCH_TORCH_WORKLOAD_H_
#define EDGELOOP_EDGE_BENCH_TORCH_WORKLOAD_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "edge_bench/workload.h"

namespace edgeloop::edge_bench {

absl::StatusOr<std::unique_ptr<WorkloadFactory>> MakeTorchWorkloadFactory(const std::string& device,
                                                                          int threads);

}  // namespace edgeloop::edge_bench

#endif  // EDGELOOP_EDGE_BENCH_TORCH_WORKLOAD_H_
