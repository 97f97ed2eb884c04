#include "supernet/subnet_dims.h"

namespace edgeloop::supernet {

SubnetDims DimsOf(const ArchConfig& arch) {
  SubnetDims dims;
  for (int i = 0; i < 3; ++i) {
    dims.patch[i] = arch.patch_size(i);
    dims.window[i] = arch.window_size(i);
  }
  dims.embed = arch.embed_dim();
  for (int s = 0; s < arch::kNumStages; ++s) {
    dims.stages[s] = {arch.depths(s), arch::StageWidth(arch, s), arch.num_heads(s),
                      arch::MlpHidden(arch, s)};
  }
  return dims;
}

}  // namespace edgeloop::supernet
