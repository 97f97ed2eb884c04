// Where a subnet's parameters live inside the supernet's: the mapping that extraction,
// seeding the supernet from a stand-alone model and the weight-sharing tests share with
// the elastic forward pass (elastic_ops.h).
//
// A static parameter named as in the reference (layers.1.blocks.0.attn.qkv.weight) maps to
// the supernet parameter of the same name, except the patch embedding, which the supernet
// holds once per patch choice (patch_embeds.t2_h4_w4.proj.weight). Each dimension keeps
// its leading entries; grouped dimensions (q|k|v rows of qkv, the four neighbour groups of
// patch merging) keep the leading entries of every group.
#ifndef EDGELOOP_SUPERNET_SUBNET_SLICING_H_
#define EDGELOOP_SUPERNET_SUBNET_SLICING_H_

#include <cstdint>
#include <string>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "supernet/subnet_dims.h"

namespace edgeloop::supernet {

// Name of the supernet module holding the embedding of one patch choice.
std::string PatchChoiceKey(const Dims3& patch);

// Supernet parameter name of a static parameter of an architecture with `patch`.
std::string SupernetName(const std::string& static_name, const Dims3& patch);

// A writable view of `shared` holding the entries of a static tensor of shape `shape`
// named `static_name`, and the static tensor reshaped to the same (grouped) shape, so
// that `SharedView(...).copy_(Grouped(...))` and the reverse move weights either way.
// InvalidArgument when `shape` does not fit inside `shared`.
absl::StatusOr<torch::Tensor> SharedView(const std::string& static_name,
                                         const torch::Tensor& shared, c10::IntArrayRef shape);
torch::Tensor Grouped(const std::string& static_name, const torch::Tensor& t);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_SUBNET_SLICING_H_
