// One stage of Video Swin (the reference's BasicLayer): `depth` blocks alternating regular
// and shifted windows, then patch merging for all stages but the last. The window plan and
// the shift mask are computed once per forward from the token grid. Built at its widest
// (deepest); forward runs the first active.depth blocks at the active sizes.
#ifndef EDGELOOP_SUPERNET_SWIN_STAGE_H_
#define EDGELOOP_SUPERNET_SWIN_STAGE_H_

#include <vector>

#include <torch/torch.h>

#include "supernet/patch_merging.h"
#include "supernet/subnet_dims.h"
#include "supernet/swin_block.h"

namespace edgeloop::supernet {

class SwinStageImpl : public torch::nn::Module {
 public:
  SwinStageImpl(const StageDims& widest, const Dims3& window_config, bool downsample);

  // x: [B, D, H, W, active.width] -> the next stage's input (merged when downsampling).
  torch::Tensor forward(const torch::Tensor& x, const StageDims& active);

  torch::nn::ModuleList blocks{nullptr};
  PatchMerging downsample{nullptr};

 private:
  Dims3 window_config_;
  std::vector<SwinBlock3D> block_list_;
};
TORCH_MODULE(SwinStage);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_SWIN_STAGE_H_
