#include "predictor/features.h"

#include "absl/strings/str_cat.h"
#include "arch/arch_config.h"
#include "arch/cost_model.h"

namespace edgeloop::predictor {
namespace {

constexpr const char* kStageFields[] = {"depth",         "width",     "heads",         "head_dim",
                                        "mlp_hidden",    "tokens",    "padded_tokens", "windows",
                                        "window_tokens", "attn_elems"};

std::vector<std::string> BuildNames() {
  std::vector<std::string> names = {"batch",
                                    "resolution",
                                    "frames",
                                    "patch_t",
                                    "patch_h",
                                    "patch_w",
                                    "embed_dim",
                                    "mlp_ratio",
                                    "params",
                                    "flops",
                                    "flops_patch_embed",
                                    "flops_qkv",
                                    "flops_attention",
                                    "flops_proj",
                                    "flops_mlp",
                                    "flops_merge",
                                    "flops_head",
                                    "peak_activation",
                                    "activation_total",
                                    "tokens_total",
                                    "windows_total"};
  for (int s = 0; s < arch::kNumStages; ++s)
    for (const char* f : kStageFields) names.push_back(absl::StrCat("s", s, "_", f));
  for (const char* f : {"batch_flops", "batch_flops_patch_embed", "batch_flops_qkv",
                        "batch_flops_attention", "batch_flops_proj", "batch_flops_mlp",
                        "batch_flops_merge", "batch_flops_head", "batch_activation_total",
                        "batch_peak_activation", "batch_tokens_total", "batch_windows_total"})
    names.push_back(f);
  return names;
}

}  // namespace

const std::vector<std::string>& FeatureNames() {
  static const std::vector<std::string>* names = new std::vector<std::string>(BuildNames());
  return *names;
}

int NumFeatures() { return static_cast<int>(FeatureNames().size()); }

int FeatureIndex(const std::string& name) {
  const auto& names = FeatureNames();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  return -1;
}

void ComputeFeatures(const ArchConfig& arch, int batch, float* out) {
  const arch::Cost cost = arch::ComputeCost(arch);
  const auto geo = arch::ComputeGeometry(arch);
  const arch::FlopsByOp& f = cost.by_op;
  double activation_total = 0, tokens_total = 0, windows_total = 0;
  for (const arch::StageGeometry& g : geo) {
    const double attn =
        static_cast<double>(g.windows) * g.heads * g.window_tokens * g.window_tokens;
    activation_total += g.depth * (3.0 * g.padded_tokens * g.width + attn +
                                   static_cast<double>(g.tokens) * g.mlp_hidden +
                                   static_cast<double>(g.tokens) * g.width);
    tokens_total += static_cast<double>(g.depth) * g.padded_tokens;
    windows_total += static_cast<double>(g.depth) * g.windows;
  }
  const double b = batch;
  int i = 0;
  auto put = [&](double v) { out[i++] = static_cast<float>(v); };
  put(b);
  put(arch.resolution());
  put(arch.frames());
  put(arch.patch_size(0));
  put(arch.patch_size(1));
  put(arch.patch_size(2));
  put(arch.embed_dim());
  put(arch.mlp_ratio());
  put(cost.params);
  put(cost.flops);
  const double by_op[] = {double(f.patch_embed), double(f.qkv), double(f.attention),
                          double(f.proj),        double(f.mlp), double(f.merge),
                          double(f.head)};
  for (double v : by_op) put(v);
  put(cost.peak_activation_floats);
  put(activation_total);
  put(tokens_total);
  put(windows_total);
  for (const arch::StageGeometry& g : geo) {
    put(g.depth);
    put(g.width);
    put(g.heads);
    put(static_cast<double>(g.width) / g.heads);
    put(g.mlp_hidden);
    put(g.tokens);
    put(g.padded_tokens);
    put(g.windows);
    put(g.window_tokens);
    put(static_cast<double>(g.windows) * g.heads * g.window_tokens * g.window_tokens);
  }
  put(b * cost.flops);
  for (double v : by_op) put(b * v);
  put(b * activation_total);
  put(b * cost.peak_activation_floats);
  put(b * tokens_total);
  put(b * windows_total);
}

std::vector<float> ComputeFeatures(const ArchConfig& arch, int batch) {
  std::vector<float> out(NumFeatures());
  ComputeFeatures(arch, batch, out.data());
  return out;
}

}  // namespace edgeloop::predictor
