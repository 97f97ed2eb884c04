// 3D patch embedding (the reference's PatchEmbed3D without patch norm): the input is padded
// at the end of T, H and W to a multiple of the patch, then a Conv3d with kernel = stride =
// patch maps each patch to `width` channels. forward runs the first c output channels.
#ifndef EDGELOOP_SUPERNET_PATCH_EMBED_H_
#define EDGELOOP_SUPERNET_PATCH_EMBED_H_

#include <cstdint>

#include <torch/torch.h>

#include "supernet/subnet_dims.h"

namespace edgeloop::supernet {

class PatchEmbed3DImpl : public torch::nn::Module {
 public:
  PatchEmbed3DImpl(int64_t width, const Dims3& patch);
  // x: [B, 1, T, H, W] -> [B, c, D, H', W'].
  torch::Tensor forward(const torch::Tensor& x, int64_t c);
  const Dims3& patch() const { return patch_; }

  torch::nn::Conv3d proj{nullptr};

 private:
  Dims3 patch_;
};
TORCH_MODULE(PatchEmbed3D);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_PATCH_EMBED_H_
