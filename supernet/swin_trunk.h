// The parts of a Video Swin shared by the static model and the supernet, and the forward
// pass through them: patch embedding -> stages (channels last) -> final LayerNorm -> global
// average pool over (T, H, W) -> dropout 0.5 -> head.fc_cls (8C -> 400) -> linear_layers
// (400 -> 200, ReLU, 200 -> 2). Module names are the reference's, so state dicts map one to
// one: layers.<s>.blocks.<b>...., norm, head.fc_cls, linear_layers.0 / .2.
#ifndef EDGELOOP_SUPERNET_SWIN_TRUNK_H_
#define EDGELOOP_SUPERNET_SWIN_TRUNK_H_

#include <vector>

#include <torch/torch.h>

#include "supernet/patch_embed.h"
#include "supernet/subnet_dims.h"
#include "supernet/swin_stage.h"

namespace edgeloop::supernet {

class ClsHeadImpl : public torch::nn::Module {
 public:
  explicit ClsHeadImpl(int64_t width);
  torch::nn::Linear fc_cls{nullptr};
};
TORCH_MODULE(ClsHead);

struct SwinTrunk {
  std::vector<SwinStage> stages;  // registered as "layers"
  torch::nn::LayerNorm norm{nullptr};
  ClsHead head{nullptr};
  torch::nn::Linear hidden{nullptr};  // linear_layers.0
  torch::nn::Linear output{nullptr};  // linear_layers.2

  // Registers layers, norm, head and linear_layers on `owner`, sized by `widest`.
  static SwinTrunk RegisterOn(torch::nn::Module* owner, const SubnetDims& widest);

  // x: [B, 1, T, H, W] -> [B, 2], embedding with `embed` at the active sizes.
  torch::Tensor Forward(const torch::Tensor& x, PatchEmbed3DImpl& embed, const SubnetDims& active,
                        bool training);
};

// Deterministic initialisation under `seed`, by parameter name and shape as the reference
// initialises: the backbone's linear weights and relative position bias tables N(0, 0.02)
// truncated at 2 std, their biases 0, LayerNorm 1/0; Conv3d and the regression MLP
// (`linear_layers`) PyTorch's default uniform(+-1/sqrt(fan_in)); the classification head
// `head.fc_cls` N(0, 0.01) with bias 0 (mmaction's I3DHead).
void InitSwinWeights(torch::nn::Module& module, uint64_t seed);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_SWIN_TRUNK_H_
