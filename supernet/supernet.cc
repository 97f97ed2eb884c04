#include "supernet/supernet.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "supernet/state_dict.h"
#include "supernet/subnet_slicing.h"

namespace edgeloop::supernet {
namespace {

// The widest value of every dimension over the space's choices.
SubnetDims WidestDims(const arch::Space& space) {
  const SearchSpace& spec = space.spec();
  ArchConfig widest = space.Max();
  widest.set_embed_dim(*std::max_element(spec.embed_dim().begin(), spec.embed_dim().end()));
  widest.set_mlp_ratio(*std::max_element(spec.mlp_ratio().begin(), spec.mlp_ratio().end()));
  for (int s = 0; s < arch::kNumStages; ++s) {
    const StageChoices& stage = spec.stage(s);
    widest.set_depths(s, *std::max_element(stage.depth().begin(), stage.depth().end()));
    widest.set_num_heads(s, *std::max_element(stage.num_heads().begin(), stage.num_heads().end()));
  }
  return DimsOf(widest);
}

// Calls fn(static name, static tensor, shared view) for every parameter of `model`.
absl::Status ForEachShared(
    VideoSwinImpl& model, torch::nn::Module& supernet,
    const std::function<void(const std::string&, torch::Tensor&, torch::Tensor&)>& fn) {
  const Dims3 patch = model.patch_embed->patch();
  auto shared = supernet.named_parameters();
  for (auto& item : model.named_parameters()) {
    const std::string shared_name = SupernetName(item.key(), patch);
    torch::Tensor* tensor = shared.find(shared_name);
    if (tensor == nullptr) {
      return absl::InternalError(absl::StrCat("supernet has no parameter ", shared_name));
    }
    absl::StatusOr<torch::Tensor> view = SharedView(item.key(), *tensor, item.value().sizes());
    if (!view.ok()) return view.status();
    fn(item.key(), item.value(), *view);
  }
  return absl::OkStatus();
}

absl::Status Guarded(const std::function<absl::Status()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

}  // namespace

// Patch size is elastic through one embedding per patch choice rather than one cropped
// kernel. The patch is the stride as well as the kernel, so it changes what a token is:
// a (4,4,4) token summarises twice the time of a (2,4,4) one, and a cropped kernel would
// have to serve both meanings with one bias and one scale. Per-choice embeddings cost
// little (at most 8 choices x C x 64 weights, under 1% of the largest subnet) and make
// extraction an exact copy. Cropping would also need a kernel of the largest patch, while
// the space's maximum subnet has the smallest.
SupernetImpl::SupernetImpl(const arch::Space& space)
    : space_(space), active_(space.Max()), widest_(WidestDims(space)) {
  active_dims_ = DimsOf(active_);
  patch_embeds_ = register_module("patch_embeds", torch::nn::ModuleDict());
  const PatchChoices& choices = space.spec().patch_size();
  for (int t : choices.t())
    for (int h : choices.h())
      for (int w : choices.w()) {
        const Dims3 patch = {t, h, w};
        patch_embeds_->update({{PatchChoiceKey(patch), PatchEmbed3D(widest_.embed, patch).ptr()}});
      }
  trunk_ = SwinTrunk::RegisterOn(this, widest_);
}

PatchEmbed3DImpl& SupernetImpl::EmbedFor(const Dims3& patch) {
  return *patch_embeds_[PatchChoiceKey(patch)]->as<PatchEmbed3DImpl>();
}

absl::Status SupernetImpl::set_active(const ArchConfig& arch) {
  if (absl::Status s = space_.Contains(arch); !s.ok()) return s;
  active_ = arch;
  active_dims_ = DimsOf(arch);
  return absl::OkStatus();
}

const ArchConfig& SupernetImpl::sample_active(Rng* rng) {
  active_ = space_.Sample(rng);
  active_dims_ = DimsOf(active_);
  return active_;
}

torch::Tensor SupernetImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 5 && x.size(1) == arch::kInChans,
              "supernet input must be [B, 1, T, H, W], got ", x.sizes());
  return trunk_.Forward(x, EmbedFor(active_dims_.patch), active_dims_, is_training());
}

absl::StatusOr<VideoSwin> SupernetImpl::extract(const ArchConfig& arch) {
  if (absl::Status s = space_.Contains(arch); !s.ok()) return s;
  VideoSwin model{nullptr};
  absl::Status copied = Guarded([&] {
    model = VideoSwin(arch);  // every parameter is overwritten below: no initialisation
    torch::NoGradGuard no_grad;
    return ForEachShared(*model, *this,
                         [](const std::string& name, torch::Tensor& mine, torch::Tensor& shared) {
                           Grouped(name, mine).copy_(shared);
                         });
  });
  if (!copied.ok()) return copied;
  model->train(is_training());
  return model;
}

absl::Status SupernetImpl::LoadSubnetWeights(const ArchConfig& arch, const StateDict& state) {
  if (absl::Status s = space_.Contains(arch); !s.ok()) return s;
  return Guarded([&]() -> absl::Status {
    VideoSwin model(arch);
    if (absl::Status s = LoadStateDict(*model, state); !s.ok()) return s;
    torch::NoGradGuard no_grad;
    return ForEachShared(*model, *this,
                         [](const std::string& name, torch::Tensor& mine, torch::Tensor& shared) {
                           shared.copy_(Grouped(name, mine));
                         });
  });
}

absl::StatusOr<Supernet> MakeSupernet(const arch::Space& space, uint64_t seed) {
  try {
    Supernet net(space);
    InitSwinWeights(*net, seed);
    return net;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("building the supernet: ", e.what()));
  }
}

}  // namespace edgeloop::supernet
