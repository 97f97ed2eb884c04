// Latency features of an architecture at a batch size, computed analytically (no LibTorch)
// from arch/cost_model.h. Version kFeatureVersion; a model records the version and the
// names it was trained on and refuses features of another version.
//
// Feature set, version 1 (names in order; "sK_" repeats for stages K = 0..3):
//   batch, resolution, frames, patch_t, patch_h, patch_w, embed_dim, mlp_ratio,
//   params, flops                              multiply-accumulates per sample (all ops)
//   flops_patch_embed, flops_qkv, flops_attention, flops_proj, flops_mlp, flops_merge,
//   flops_head                                  MACs per sample by op kind
//   peak_activation                            largest activation tensor (floats/sample)
//   activation_total                           sum over blocks of the tensors a block
//                                              writes (qkv, attention matrix, MLP hidden,
//                                              block output), floats per sample
//   tokens_total, windows_total                summed over all blocks
//   sK_depth, sK_width, sK_heads, sK_head_dim, sK_mlp_hidden,
//   sK_tokens, sK_padded_tokens, sK_windows, sK_window_tokens,
//   sK_attn_elems                              windows*heads*N^2 of one block
//   batch_flops, batch_flops_patch_embed, batch_flops_qkv, batch_flops_attention,
//   batch_flops_proj, batch_flops_mlp, batch_flops_merge, batch_flops_head,
//   batch_activation_total, batch_peak_activation, batch_tokens_total, batch_windows_total
//                                              the per-sample quantities times batch
#ifndef EDGELOOP_PREDICTOR_FEATURES_H_
#define EDGELOOP_PREDICTOR_FEATURES_H_

#include <string>
#include <vector>

#include "proto/arch.pb.h"

namespace edgeloop::predictor {

inline constexpr int kFeatureVersion = 1;

// The names of the features, in the order ComputeFeatures writes them.
const std::vector<std::string>& FeatureNames();
int NumFeatures();

// Writes NumFeatures() values to `out`. `arch` must pass ValidateStructure; batch >= 1.
void ComputeFeatures(const ArchConfig& arch, int batch, float* out);
std::vector<float> ComputeFeatures(const ArchConfig& arch, int batch);

// Index of a named feature, or -1.
int FeatureIndex(const std::string& name);

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_FEATURES_H_
