#include "arch/cost_model.h"

#include <algorithm>

#include "arch/arch_config.h"

namespace edgeloop::arch {
namespace {

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

std::array<StageGeometry, 4> ComputeGeometry(const ArchConfig& arch) {
  std::array<StageGeometry, 4> out;
  int64_t d = CeilDiv(arch.frames(), arch.patch_size(0));
  int64_t h = CeilDiv(arch.resolution(), arch.patch_size(1));
  int64_t w = CeilDiv(arch.resolution(), arch.patch_size(2));
  for (int s = 0; s < kNumStages; ++s) {
    StageGeometry& g = out[s];
    g.d = d;
    g.h = h;
    g.w = w;
    const int64_t grid[3] = {d, h, w};
    g.shifted = false;
    for (int i = 0; i < 3; ++i) {
      const int64_t ws = arch.window_size(i);
      if (grid[i] <= ws) {
        g.window[i] = grid[i];
      } else {
        g.window[i] = ws;
        g.shifted = true;
      }
    }
    g.dp = CeilDiv(d, g.window[0]) * g.window[0];
    g.hp = CeilDiv(h, g.window[1]) * g.window[1];
    g.wp = CeilDiv(w, g.window[2]) * g.window[2];
    g.window_tokens = g.window[0] * g.window[1] * g.window[2];
    g.windows = (g.dp / g.window[0]) * (g.hp / g.window[1]) * (g.wp / g.window[2]);
    g.tokens = d * h * w;
    g.padded_tokens = g.dp * g.hp * g.wp;
    g.width = StageWidth(arch, s);
    g.heads = arch.num_heads(s);
    g.depth = arch.depths(s);
    g.mlp_hidden = MlpHidden(arch, s);
    h = CeilDiv(h, 2);
    w = CeilDiv(w, 2);
  }
  return out;
}

int64_t CountParams(const ArchConfig& arch) {
  const int64_t pt = arch.patch_size(0), ph = arch.patch_size(1), pw = arch.patch_size(2);
  const int64_t c0 = arch.embed_dim();
  int64_t params = c0 * kInChans * pt * ph * pw + c0;  // patch_embed.proj
  const int64_t table_rows = (2LL * arch.window_size(0) - 1) * (2LL * arch.window_size(1) - 1) *
                             (2LL * arch.window_size(2) - 1);
  for (int s = 0; s < kNumStages; ++s) {
    const int64_t c = StageWidth(arch, s);
    const int64_t hid = MlpHidden(arch, s);
    int64_t block = 2 * c                             // norm1
                    + table_rows * arch.num_heads(s)  // relative_position_bias_table
                    + 3 * c * c + 3 * c               // qkv
                    + c * c + c                       // proj
                    + 2 * c                           // norm2
                    + c * hid + hid                   // fc1
                    + hid * c + c;                    // fc2
    params += block * arch.depths(s);
    if (s < kNumStages - 1) params += 2 * (4 * c) + 4 * c * 2 * c;  // merge norm + reduction
  }
  const int64_t c_last = StageWidth(arch, kNumStages - 1);
  params += 2 * c_last;                                // norm
  params += c_last * kHeadClasses + kHeadClasses;      // head.fc_cls
  params += kHeadClasses * kHeadHidden + kHeadHidden;  // linear_layers.0
  params += kHeadHidden * kNumTargets + kNumTargets;   // linear_layers.2
  return params;
}

Cost ComputeCost(const ArchConfig& arch) {
  Cost cost;
  cost.params = CountParams(arch);
  const auto geo = ComputeGeometry(arch);
  const int64_t kernel =
      static_cast<int64_t>(arch.patch_size(0)) * arch.patch_size(1) * arch.patch_size(2) * kInChans;
  FlopsByOp& f = cost.by_op;
  f.patch_embed = geo[0].tokens * geo[0].width * kernel;
  int64_t peak = static_cast<int64_t>(arch.frames()) * arch.resolution() * arch.resolution();
  for (int s = 0; s < kNumStages; ++s) {
    const StageGeometry& g = geo[s];
    const int64_t c = g.width;
    f.qkv += g.depth * g.padded_tokens * c * 3 * c;
    f.attention += g.depth * g.windows * 2 * g.window_tokens * g.window_tokens * c;
    f.proj += g.depth * g.padded_tokens * c * c;
    f.mlp += g.depth * g.tokens * 2 * c * g.mlp_hidden;
    peak = std::max({peak, g.padded_tokens * 3 * c, g.tokens * g.mlp_hidden,
                     g.windows * g.heads * g.window_tokens * g.window_tokens});
    if (s < kNumStages - 1) {
      const int64_t merged = g.d * ((g.h + 1) / 2) * ((g.w + 1) / 2);
      f.merge += merged * 4 * c * 2 * c;
    }
  }
  const int64_t c_last = geo[kNumStages - 1].width;
  f.head = c_last * kHeadClasses + kHeadClasses * kHeadHidden + kHeadHidden * kNumTargets;
  cost.flops = f.Total();
  cost.peak_activation_floats = peak;
  return cost;
}

}  // namespace edgeloop::arch
