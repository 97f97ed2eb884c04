// One Video Swin transformer block (the reference's SwinTransformerBlock3D):
//   x = x + attention(pad(norm1(x)) in (shifted) windows, cropped back to the grid)
//   x = x + mlp(norm2(x))
// Padding follows norm1 (padded tokens are zeros); the MLP runs on real tokens only.
// Built at its widest; forward runs the active StageDims.
#ifndef EDGELOOP_SUPERNET_SWIN_BLOCK_H_
#define EDGELOOP_SUPERNET_SWIN_BLOCK_H_

#include <torch/torch.h>

#include "supernet/mlp.h"
#include "supernet/subnet_dims.h"
#include "supernet/window_attention.h"
#include "supernet/window_geometry.h"

namespace edgeloop::supernet {

class SwinBlock3DImpl : public torch::nn::Module {
 public:
  SwinBlock3DImpl(const StageDims& widest, const Dims3& window_config);

  // x: [B, D, H, W, c]. `shifted` selects the rolled windows (odd blocks) when the plan
  // shifts at all; `mask` is the plan's ShiftedWindowMask, needed only then.
  torch::Tensor forward(const torch::Tensor& x, const WindowPlan& plan, bool shifted,
                        const torch::Tensor& mask, const StageDims& active);

  torch::nn::LayerNorm norm1{nullptr};
  WindowAttention3D attn{nullptr};
  torch::nn::LayerNorm norm2{nullptr};
  Mlp mlp{nullptr};
};
TORCH_MODULE(SwinBlock3D);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_SWIN_BLOCK_H_
