// The static Video Swin of one architecture: exactly the reference model (see
// ../shared/reference/PAPER_FACTS.md), with the reference's parameter names
// (patch_embed.proj.weight, layers.0.blocks.1.attn.qkv.weight, ..., head.fc_cls.weight,
// linear_layers.2.weight) and relative_position_index as a buffer, so state dicts map one to
// one; its parameter count equals CountParams(arch).
//
// forward takes [B, 1, frames, resolution, resolution] float (the architecture's input) and
// returns [B, 2] (speed/900, power/215). Another shape throws c10::Error naming the expected
// and actual shape; CheckInput gives the same check as a Status.
#ifndef EDGELOOP_SUPERNET_VIDEO_SWIN_H_
#define EDGELOOP_SUPERNET_VIDEO_SWIN_H_

#include <cstdint>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "arch/arch_config.h"
#include "supernet/patch_embed.h"
#include "supernet/subnet_dims.h"
#include "supernet/swin_trunk.h"

namespace edgeloop::supernet {

class VideoSwinImpl : public torch::nn::Module {
 public:
  explicit VideoSwinImpl(const ArchConfig& arch);  // arch must pass ValidateStructure
  torch::Tensor forward(const torch::Tensor& x);
  const ArchConfig& arch() const { return arch_; }

  PatchEmbed3D patch_embed{nullptr};

 private:
  ArchConfig arch_;
  SubnetDims dims_;
  SwinTrunk trunk_;
};
TORCH_MODULE(VideoSwin);

// Validates (ValidateStructure) and builds with deterministic init under `seed`.
absl::StatusOr<VideoSwin> MakeVideoSwin(const ArchConfig& arch, uint64_t seed = 0);

// OK when `sizes` is [B >= 1, 1, frames, resolution, resolution] of `arch`.
absl::Status CheckInput(const ArchConfig& arch, c10::IntArrayRef sizes);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_VIDEO_SWIN_H_
