// The transformer MLP of a Swin block: fc1 -> GELU -> fc2 (dropout 0 in the reference).
// Built at its widest (width, hidden); forward runs the active (c, hidden) prefix.
#ifndef EDGELOOP_SUPERNET_MLP_H_
#define EDGELOOP_SUPERNET_MLP_H_

#include <cstdint>

#include <torch/torch.h>

namespace edgeloop::supernet {

class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t width, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x, int64_t c, int64_t hidden);

  torch::nn::Linear fc1{nullptr};
  torch::nn::Linear fc2{nullptr};
};
TORCH_MODULE(Mlp);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_MLP_H_
