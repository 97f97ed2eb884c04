// The sizes a Video Swin module needs, derived from an ArchConfig: per-stage depth, width,
// heads and MLP hidden units, the patch and the configured window. Static models are built
// with them and elastic modules are told them as the active sizes of a forward pass.
#ifndef EDGELOOP_SUPERNET_SUBNET_DIMS_H_
#define EDGELOOP_SUPERNET_SUBNET_DIMS_H_

#include <array>
#include <cstdint>

#include "arch/arch_config.h"

namespace edgeloop::supernet {

using Dims3 = std::array<int64_t, 3>;

struct StageDims {
  int64_t depth = 0;
  int64_t width = 0;
  int64_t heads = 0;
  int64_t hidden = 0;
};

struct SubnetDims {
  Dims3 patch{};
  Dims3 window{};
  int64_t embed = 0;
  std::array<StageDims, arch::kNumStages> stages{};
  int64_t final_width() const { return stages[arch::kNumStages - 1].width; }
};

SubnetDims DimsOf(const ArchConfig& arch);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_SUBNET_DIMS_H_
