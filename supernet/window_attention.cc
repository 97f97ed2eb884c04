#include "supernet/window_attention.h"

#include <cmath>

#include "supernet/elastic_ops.h"
#include "supernet/window_geometry.h"

namespace edgeloop::supernet {

WindowAttention3DImpl::WindowAttention3DImpl(int64_t width, int64_t heads,
                                             const Dims3& window_config) {
  const int64_t rows =
      (2 * window_config[0] - 1) * (2 * window_config[1] - 1) * (2 * window_config[2] - 1);
  relative_position_bias_table =
      register_parameter("relative_position_bias_table", torch::zeros({rows, heads}));
  relative_position_index =
      register_buffer("relative_position_index", RelativePositionIndex(window_config));
  qkv = register_module("qkv", torch::nn::Linear(torch::nn::LinearOptions(width, 3 * width)));
  proj = register_module("proj", torch::nn::Linear(width, width));
}

torch::Tensor WindowAttention3DImpl::forward(const torch::Tensor& x, const torch::Tensor& mask,
                                             int64_t c, int64_t heads) {
  const int64_t batch_windows = x.size(0), n = x.size(1);
  const int64_t head_dim = c / heads;
  torch::Tensor w = GroupedPrefix(Prefix(qkv->weight, 1, c), 0, 3, c);
  torch::Tensor b = GroupedPrefix(qkv->bias, 0, 3, c);
  torch::Tensor qkv_out = torch::nn::functional::linear(x, w, b)
                              .reshape({batch_windows, n, 3, heads, head_dim})
                              .permute({2, 0, 3, 1, 4});
  torch::Tensor q = qkv_out[0] * (1.0 / std::sqrt(static_cast<double>(head_dim)));
  torch::Tensor attn = torch::matmul(q, qkv_out[1].transpose(-2, -1));
  torch::Tensor index = relative_position_index.narrow(0, 0, n).narrow(1, 0, n).reshape({-1});
  torch::Tensor bias = Prefix(relative_position_bias_table, 1, heads)
                           .index_select(0, index)
                           .reshape({n, n, heads})
                           .permute({2, 0, 1});
  attn = attn + bias.unsqueeze(0);
  if (mask.defined()) {
    const int64_t windows = mask.size(0);
    attn =
        attn.view({batch_windows / windows, windows, heads, n, n}) + mask.unsqueeze(1).unsqueeze(0);
    attn = attn.view({-1, heads, n, n});
  }
  attn = attn.softmax(-1);
  torch::Tensor out =
      torch::matmul(attn, qkv_out[2]).transpose(1, 2).reshape({batch_windows, n, c});
  return SlicedLinear(out, proj, c, c);
}

}  // namespace edgeloop::supernet
