#include "supernet/video_swin.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace edgeloop::supernet {

VideoSwinImpl::VideoSwinImpl(const ArchConfig& arch) : arch_(arch), dims_(DimsOf(arch)) {
  patch_embed = register_module("patch_embed", PatchEmbed3D(dims_.embed, dims_.patch));
  trunk_ = SwinTrunk::RegisterOn(this, dims_);
}

torch::Tensor VideoSwinImpl::forward(const torch::Tensor& x) {
  absl::Status ok = CheckInput(arch_, x.sizes());
  TORCH_CHECK(ok.ok(), std::string(ok.message()));
  return trunk_.Forward(x, *patch_embed, dims_, is_training());
}

absl::StatusOr<VideoSwin> MakeVideoSwin(const ArchConfig& arch, uint64_t seed) {
  if (absl::Status s = arch::ValidateStructure(arch); !s.ok()) return s;
  try {
    VideoSwin model(arch);
    InitSwinWeights(*model, seed);
    return model;
  } catch (const std::exception& e) {
    const std::string what = e.what();  // c10 appends a backtrace: keep the first line
    return absl::InternalError(
        absl::StrCat("building Video Swin: ", what.substr(0, what.find('\n'))));
  }
}

absl::Status CheckInput(const ArchConfig& arch, c10::IntArrayRef sizes) {
  const bool ok = sizes.size() == 5 && sizes[0] >= 1 && sizes[1] == arch::kInChans &&
                  sizes[2] == arch.frames() && sizes[3] == arch.resolution() &&
                  sizes[4] == arch.resolution();
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "input shape [", absl::StrJoin(sizes, ","), "] does not match the architecture: expected [B,",
      arch::kInChans, ",", arch.frames(), ",", arch.resolution(), ",", arch.resolution(), "]"));
}

}  // namespace edgeloop::supernet
