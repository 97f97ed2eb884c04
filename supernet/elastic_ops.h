// Prefix slicing of shared weights: the one rule by which every subnet of the supernet
// takes its weights from the largest network.
//
// A subnet of width c uses the first c channels of every weight, bias and norm of the
// widest network. Where a weight is the concatenation of equal groups (q|k|v of the qkv
// projection, the four 2x2 neighbours of patch merging) each group is sliced on its own, so
// channel j of group g means the same thing in every subnet. A slice that keeps the full
// size returns the tensor itself (no copy); the static model runs through the same code with
// nothing sliced. Grouped slices are made contiguous because the BLAS/LayerNorm kernels
// need a dense weight.
#ifndef EDGELOOP_SUPERNET_ELASTIC_OPS_H_
#define EDGELOOP_SUPERNET_ELASTIC_OPS_H_

#include <cstdint>

#include <torch/torch.h>

namespace edgeloop::supernet {

// First n entries along `dim` (a view).
torch::Tensor Prefix(const torch::Tensor& t, int64_t dim, int64_t n);

// `t` holds `groups` equal blocks along `dim`; keeps the first n entries of each block.
torch::Tensor GroupedPrefix(const torch::Tensor& t, int64_t dim, int64_t groups, int64_t n);

// y = x W[:out, :in]^T + b[:out] (no bias when the layer has none).
torch::Tensor SlicedLinear(const torch::Tensor& x, const torch::nn::Linear& layer, int64_t in,
                           int64_t out);

// LayerNorm over the last dimension, of width c, with weight/bias sliced to c.
torch::Tensor SlicedLayerNorm(const torch::Tensor& x, const torch::nn::LayerNorm& norm, int64_t c);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_ELASTIC_OPS_H_
