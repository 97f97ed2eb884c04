// Patch merging between stages (the reference's PatchMerging): H and W are padded to even,
// each 2x2 neighbourhood is concatenated (x0, x1, x2, x3 = (0,0), (1,0), (0,1), (1,1)) to
// 4c channels, normalised, and reduced to 2c by a bias-free linear. Elastic width slices
// each of the four neighbour groups of the norm and of the reduction's input on its own.
#ifndef EDGELOOP_SUPERNET_PATCH_MERGING_H_
#define EDGELOOP_SUPERNET_PATCH_MERGING_H_

#include <cstdint>

#include <torch/torch.h>

namespace edgeloop::supernet {

class PatchMergingImpl : public torch::nn::Module {
 public:
  explicit PatchMergingImpl(int64_t width);
  // x: [B, D, H, W, c] -> [B, D, ceil(H/2), ceil(W/2), 2c].
  torch::Tensor forward(const torch::Tensor& x, int64_t c);

  torch::nn::Linear reduction{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(PatchMerging);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_PATCH_MERGING_H_
