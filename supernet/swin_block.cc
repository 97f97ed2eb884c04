#include "supernet/swin_block.h"

#include "supernet/elastic_ops.h"

namespace edgeloop::supernet {

namespace F = torch::nn::functional;

SwinBlock3DImpl::SwinBlock3DImpl(const StageDims& widest, const Dims3& window_config) {
  norm1 =
      register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({widest.width})));
  attn = register_module("attn", WindowAttention3D(widest.width, widest.heads, window_config));
  norm2 =
      register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({widest.width})));
  mlp = register_module("mlp", Mlp(widest.width, widest.hidden));
}

torch::Tensor SwinBlock3DImpl::forward(const torch::Tensor& x, const WindowPlan& plan, bool shifted,
                                       const torch::Tensor& mask, const StageDims& active) {
  const int64_t batch = x.size(0), c = active.width;
  const Dims3& grid = plan.grid;
  const Dims3& pad = plan.padded;
  const bool roll = shifted && plan.shifted();
  const bool padded = pad[0] != grid[0] || pad[1] != grid[1] || pad[2] != grid[2];

  torch::Tensor y = SlicedLayerNorm(x, norm1, c);
  if (padded) {
    y = F::pad(y, F::PadFuncOptions(
                      {0, 0, 0, pad[2] - grid[2], 0, pad[1] - grid[1], 0, pad[0] - grid[0]}));
  }
  if (roll) y = torch::roll(y, {-plan.shift[0], -plan.shift[1], -plan.shift[2]}, {1, 2, 3});
  torch::Tensor windows =
      attn(WindowPartition(y, plan.window), roll ? mask : torch::Tensor(), c, active.heads);
  y = WindowReverse(windows, plan.window, batch, pad);
  if (roll) y = torch::roll(y, {plan.shift[0], plan.shift[1], plan.shift[2]}, {1, 2, 3});
  if (padded) {
    y = y.narrow(1, 0, grid[0]).narrow(2, 0, grid[1]).narrow(3, 0, grid[2]).contiguous();
  }
  torch::Tensor out = x + y;
  return out + mlp(SlicedLayerNorm(out, norm2, c), c, active.hidden);
}

}  // namespace edgeloop::supernet
