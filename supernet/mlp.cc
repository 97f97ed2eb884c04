#include "supernet/mlp.h"

#include "supernet/elastic_ops.h"

namespace edgeloop::supernet {

MlpImpl::MlpImpl(int64_t width, int64_t hidden) {
  fc1 = register_module("fc1", torch::nn::Linear(width, hidden));
  fc2 = register_module("fc2", torch::nn::Linear(hidden, width));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x, int64_t c, int64_t hidden) {
  return SlicedLinear(torch::gelu(SlicedLinear(x, fc1, c, hidden)), fc2, hidden, c);
}

}  // namespace edgeloop::supernet
