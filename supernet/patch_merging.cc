#include "supernet/patch_merging.h"

#include "supernet/elastic_ops.h"

namespace edgeloop::supernet {

namespace F = torch::nn::functional;
using torch::indexing::None;
using torch::indexing::Slice;

PatchMergingImpl::PatchMergingImpl(int64_t width) {
  reduction = register_module(
      "reduction", torch::nn::Linear(torch::nn::LinearOptions(4 * width, 2 * width).bias(false)));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({4 * width})));
}

torch::Tensor PatchMergingImpl::forward(const torch::Tensor& x, int64_t c) {
  torch::Tensor in = x;
  const int64_t ph = x.size(2) % 2, pw = x.size(3) % 2;
  if (ph > 0 || pw > 0) in = F::pad(x, F::PadFuncOptions({0, 0, 0, pw, 0, ph}));
  auto pick = [&](int64_t h0, int64_t w0) {
    return in.index({Slice(), Slice(), Slice(h0, None, 2), Slice(w0, None, 2), Slice()});
  };
  torch::Tensor merged = torch::cat({pick(0, 0), pick(1, 0), pick(0, 1), pick(1, 1)}, -1);
  merged = torch::layer_norm(merged, {4 * c}, GroupedPrefix(norm->weight, 0, 4, c),
                             GroupedPrefix(norm->bias, 0, 4, c), norm->options.eps());
  torch::Tensor w = GroupedPrefix(Prefix(reduction->weight, 0, 2 * c), 1, 4, c);
  return F::linear(merged, w);
}

}  // namespace edgeloop::supernet
