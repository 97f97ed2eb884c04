#include "supernet/elastic_ops.h"

namespace edgeloop::supernet {

namespace F = torch::nn::functional;

torch::Tensor Prefix(const torch::Tensor& t, int64_t dim, int64_t n) {
  if (t.size(dim) == n) return t;
  return t.narrow(dim, 0, n);
}

torch::Tensor GroupedPrefix(const torch::Tensor& t, int64_t dim, int64_t groups, int64_t n) {
  const int64_t full = t.size(dim) / groups;
  if (full == n) return t;
  std::vector<int64_t> grouped(t.sizes().begin(), t.sizes().end());
  grouped[dim] = full;
  grouped.insert(grouped.begin() + dim, groups);
  std::vector<int64_t> sliced(t.sizes().begin(), t.sizes().end());
  sliced[dim] = groups * n;
  return t.view(grouped).narrow(dim + 1, 0, n).contiguous().view(sliced);
}

torch::Tensor SlicedLinear(const torch::Tensor& x, const torch::nn::Linear& layer, int64_t in,
                           int64_t out) {
  torch::Tensor w = Prefix(Prefix(layer->weight, 0, out), 1, in);
  torch::Tensor b = layer->bias.defined() ? Prefix(layer->bias, 0, out) : torch::Tensor();
  return F::linear(x, w, b);
}

torch::Tensor SlicedLayerNorm(const torch::Tensor& x, const torch::nn::LayerNorm& norm, int64_t c) {
  return torch::layer_norm(x, {c}, Prefix(norm->weight, 0, c), Prefix(norm->bias, 0, c),
                           norm->options.eps());
}

}  // namespace edgeloop::supernet
