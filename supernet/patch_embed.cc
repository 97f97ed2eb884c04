#include "supernet/patch_embed.h"

#include "arch/arch_config.h"
#include "supernet/elastic_ops.h"

namespace edgeloop::supernet {

namespace F = torch::nn::functional;

PatchEmbed3DImpl::PatchEmbed3DImpl(int64_t width, const Dims3& patch) : patch_(patch) {
  proj = register_module(
      "proj", torch::nn::Conv3d(
                  torch::nn::Conv3dOptions(arch::kInChans, width, {patch[0], patch[1], patch[2]})
                      .stride({patch[0], patch[1], patch[2]})));
}

torch::Tensor PatchEmbed3DImpl::forward(const torch::Tensor& x, int64_t c) {
  auto pad_of = [&](int64_t size, int64_t p) { return (p - size % p) % p; };
  const int64_t pt = pad_of(x.size(2), patch_[0]), ph = pad_of(x.size(3), patch_[1]),
                pw = pad_of(x.size(4), patch_[2]);
  torch::Tensor in = x;
  if (pt > 0 || ph > 0 || pw > 0) in = F::pad(x, F::PadFuncOptions({0, pw, 0, ph, 0, pt}));
  return torch::conv3d(in, Prefix(proj->weight, 0, c), Prefix(proj->bias, 0, c),
                       {patch_[0], patch_[1], patch_[2]});
}

}  // namespace edgeloop::supernet
