// The elastic Video Swin supernet: one set of weights from which every architecture of a
// search space runs.
//
// Sized by the space's maximum in every dimension (width, depth, heads, MLP hidden units),
// plus one patch embedding per patch choice (see PatchEmbeddings in supernet.cc for why).
// set_active picks the subnet that forward runs; its weights are prefix slices of the
// shared ones (elastic_ops.h, subnet_slicing.h): the leading channels of every linear,
// norm and bias, the first d blocks of each stage, the first h columns of every relative
// position bias table, the leading MLP hidden units. Resolution and frames come from the
// input. extract copies a subnet's slices into a stand-alone VideoSwin whose outputs equal
// the active subnet's.
#ifndef EDGELOOP_SUPERNET_SUPERNET_H_
#define EDGELOOP_SUPERNET_SUPERNET_H_

#include <map>
#include <string>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "arch/space.h"
#include "base/rng.h"
#include "supernet/patch_embed.h"
#include "supernet/subnet_dims.h"
#include "supernet/swin_trunk.h"
#include "supernet/video_swin.h"

namespace edgeloop::supernet {

class SupernetImpl : public torch::nn::Module {
 public:
  // The active subnet starts as space.Max(). Weights are zero until InitSwinWeights or a
  // checkpoint load; MakeSupernet does the former.
  explicit SupernetImpl(const arch::Space& space);

  const arch::Space& space() const { return space_; }
  const ArchConfig& active() const { return active_; }

  // InvalidArgument (naming the field) when `arch` is outside the space.
  absl::Status set_active(const ArchConfig& arch);
  // Draws an architecture uniformly from the space with `rng`, activates and returns it.
  const ArchConfig& sample_active(Rng* rng);

  // x: [B, 1, T, H, W] with any T, H, W -> [B, 2] of the active subnet.
  torch::Tensor forward(const torch::Tensor& x);

  // A static model holding copies of `arch`'s shared weights (arch must be in the space).
  absl::StatusOr<VideoSwin> extract(const ArchConfig& arch);

  // Overwrites the shared weights that `arch` uses with a stand-alone model's: `state`
  // maps reference parameter names (a VideoSwin's state dict, e.g. an imported one) to
  // tensors. Names outside the model, missing names and wrong shapes are InvalidArgument
  // listing them all; nothing is written then.
  absl::Status LoadSubnetWeights(const ArchConfig& arch,
                                 const std::map<std::string, torch::Tensor>& state);

 private:
  PatchEmbed3DImpl& EmbedFor(const Dims3& patch);

  arch::Space space_;
  ArchConfig active_;
  SubnetDims widest_;
  SubnetDims active_dims_;
  torch::nn::ModuleDict patch_embeds_{nullptr};
  SwinTrunk trunk_;
};
TORCH_MODULE(Supernet);

// Builds the supernet of `space` with deterministic initial weights under `seed`.
absl::StatusOr<Supernet> MakeSupernet(const arch::Space& space, uint64_t seed = 0);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_SUPERNET_H_
