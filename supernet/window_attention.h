// Multi-head self-attention inside 3D windows with a relative position bias
// (the reference's WindowAttention3D: qkv with bias, scale head_dim^-0.5, softmax, proj).
//
// Built at its widest (width, heads); forward runs an active width c <= width split into
// h <= heads heads, using the prefix slices of qkv (q, k and v each sliced), proj and the
// first h columns of the bias table. A window clipped to N tokens takes the bias from
// relative_position_index[:N, :N], the reference's behaviour.
#ifndef EDGELOOP_SUPERNET_WINDOW_ATTENTION_H_
#define EDGELOOP_SUPERNET_WINDOW_ATTENTION_H_

#include <cstdint>

#include <torch/torch.h>

#include "supernet/subnet_dims.h"

namespace edgeloop::supernet {

class WindowAttention3DImpl : public torch::nn::Module {
 public:
  WindowAttention3DImpl(int64_t width, int64_t heads, const Dims3& window_config);

  // x: [windows * B, N, c]; mask: [windows, N, N] or undefined.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, int64_t c,
                        int64_t heads);

  torch::nn::Linear qkv{nullptr};
  torch::nn::Linear proj{nullptr};
  torch::Tensor relative_position_bias_table;
  torch::Tensor relative_position_index;
};
TORCH_MODULE(WindowAttention3D);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_WINDOW_ATTENTION_H_
