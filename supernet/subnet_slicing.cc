#include "supernet/subnet_slicing.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace edgeloop::supernet {
namespace {

struct GroupRule {
  int64_t dim = 0;
  int64_t groups = 1;
};

GroupRule GroupRuleFor(const std::string& name) {
  if (absl::EndsWith(name, "attn.qkv.weight") || absl::EndsWith(name, "attn.qkv.bias"))
    return {0, 3};
  if (absl::StrContains(name, "downsample.norm.")) return {0, 4};
  if (absl::EndsWith(name, "downsample.reduction.weight")) return {1, 4};
  return {};
}

std::vector<int64_t> GroupedShape(c10::IntArrayRef shape, GroupRule rule) {
  std::vector<int64_t> out(shape.begin(), shape.end());
  if (rule.groups == 1) return out;
  out[rule.dim] /= rule.groups;
  out.insert(out.begin() + rule.dim, rule.groups);
  return out;
}

}  // namespace

std::string PatchChoiceKey(const Dims3& patch) {
  return absl::StrCat("t", patch[0], "_h", patch[1], "_w", patch[2]);
}

std::string SupernetName(const std::string& static_name, const Dims3& patch) {
  constexpr absl::string_view kEmbed = "patch_embed.";
  if (absl::StartsWith(static_name, kEmbed)) {
    return absl::StrCat("patch_embeds.", PatchChoiceKey(patch), ".",
                        static_name.substr(kEmbed.size()));
  }
  return static_name;
}

absl::StatusOr<torch::Tensor> SharedView(const std::string& static_name,
                                         const torch::Tensor& shared, c10::IntArrayRef shape) {
  const GroupRule rule = GroupRuleFor(static_name);
  const std::vector<int64_t> want = GroupedShape(shape, rule);
  const std::vector<int64_t> have = GroupedShape(shared.sizes(), rule);
  bool fits = want.size() == have.size() &&
              (rule.groups == 1 || shared.size(rule.dim) % rule.groups == 0) &&
              (rule.groups == 1 || shape[rule.dim] % rule.groups == 0);
  for (size_t d = 0; fits && d < want.size(); ++d) fits = want[d] <= have[d];
  if (!fits) {
    return absl::InvalidArgumentError(
        absl::StrCat(static_name, ": shape [", absl::StrJoin(shape, ","),
                     "] does not fit the supernet's [", absl::StrJoin(shared.sizes(), ","), "]"));
  }
  torch::Tensor view = shared.view(have);
  for (size_t d = 0; d < want.size(); ++d) view = view.narrow(d, 0, want[d]);
  return view;
}

torch::Tensor Grouped(const std::string& static_name, const torch::Tensor& t) {
  return t.view(GroupedShape(t.sizes(), GroupRuleFor(static_name)));
}

}  // namespace edgeloop::supernet
