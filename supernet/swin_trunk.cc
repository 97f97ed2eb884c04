#include "supernet/swin_trunk.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "absl/strings/match.h"
#include "arch/arch_config.h"
#include "supernet/elastic_ops.h"

namespace edgeloop::supernet {

namespace F = torch::nn::functional;

ClsHeadImpl::ClsHeadImpl(int64_t width) {
  fc_cls = register_module("fc_cls", torch::nn::Linear(width, arch::kHeadClasses));
}

SwinTrunk SwinTrunk::RegisterOn(torch::nn::Module* owner, const SubnetDims& widest) {
  SwinTrunk trunk;
  auto layers = owner->register_module("layers", torch::nn::ModuleList());
  for (int s = 0; s < arch::kNumStages; ++s) {
    trunk.stages.push_back(SwinStage(widest.stages[s], widest.window, s < arch::kNumStages - 1));
    layers->push_back(trunk.stages.back());
  }
  const int64_t width = widest.final_width();
  trunk.norm =
      owner->register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  trunk.head = owner->register_module("head", ClsHead(width));
  trunk.hidden = torch::nn::Linear(arch::kHeadClasses, arch::kHeadHidden);
  trunk.output = torch::nn::Linear(arch::kHeadHidden, arch::kNumTargets);
  owner->register_module("linear_layers",
                         torch::nn::Sequential(trunk.hidden, torch::nn::ReLU(), trunk.output));
  return trunk;
}

torch::Tensor SwinTrunk::Forward(const torch::Tensor& x, PatchEmbed3DImpl& embed,
                                 const SubnetDims& active, bool training) {
  torch::Tensor y = embed.forward(x, active.embed).permute({0, 2, 3, 4, 1}).contiguous();
  for (int s = 0; s < arch::kNumStages; ++s) y = stages[s]->forward(y, active.stages[s]);
  const int64_t c = active.final_width();
  y = SlicedLayerNorm(y, norm, c).mean({1, 2, 3});
  y = F::dropout(y, F::DropoutFuncOptions().p(0.5).training(training));
  y = SlicedLinear(y, head->fc_cls, c, arch::kHeadClasses);
  return output(torch::relu(hidden(y)));
}

void InitSwinWeights(torch::nn::Module& module, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  auto trunc_normal = [&](torch::Tensor& t) { t.normal_(0.0, 0.02, gen).clamp_(-0.04, 0.04); };
  // PyTorch's default for Conv3d and Linear (kaiming_uniform with a = sqrt(5)): weight and
  // bias uniform in +-1/sqrt(fan_in), fan_in from the weight of the bias's layer.
  auto params = module.named_parameters();
  auto torch_default = [&](const std::string& name, torch::Tensor& p) {
    const bool is_bias = absl::EndsWith(name, ".bias");
    const torch::Tensor* w = is_bias ? params.find(name.substr(0, name.size() - 4) + "weight") : &p;
    const double bound = 1.0 / std::sqrt(static_cast<double>((*w)[0].numel()));
    p.uniform_(-bound, bound, gen);
  };
  for (auto& item : params) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    const bool conv = p.dim() == 5 || (absl::StrContains(name, "patch_embed") &&
                                       absl::EndsWith(name, ".proj.bias"));
    if (conv || absl::StartsWith(name, "linear_layers.")) {
      // Conv3d as PyTorch; the regression MLP the reference appends after the classification
      // head is a plain nn.Sequential of nn.Linear that keeps PyTorch's default too. (With
      // N(0, 0.02) there, three small layers scale signal and gradient into the trunk down,
      // the output bias fits the target mean first and the trunk barely learns.)
      torch_default(name, p);
    } else if (name == "head.fc_cls.weight") {
      p.normal_(0.0, 0.01, gen);  // mmaction's I3DHead: normal, std 0.01, bias 0
    } else if (absl::EndsWith(name, "relative_position_bias_table") || p.dim() == 2) {
      trunc_normal(p);
    } else if (absl::EndsWith(name, ".weight")) {  // LayerNorm
      p.fill_(1.0);
    } else {
      p.zero_();
    }
  }
}

}  // namespace edgeloop::supernet
