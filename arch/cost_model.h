// Analytic cost of a Video Swin architecture, without LibTorch.
//
// Parameters are counted exactly as the reference PyTorch implementation does (the
// baseline has 28,232,336). FLOPs are multiply-accumulates for one sample: the patch
// embedding convolution, every linear layer, and the two attention matmuls (q·kᵀ and
// attn·v); norms, softmax, GELU, biases and the mask are not counted. The geometry follows
// the reference: the input is padded to a multiple of the patch; a window is clipped to the
// feature map where the map is not larger (and then not shifted); the map is padded to a
// multiple of the window for attention, so qkv, proj and attention run on padded tokens
// while the MLP runs on real ones; patch merging pads H and W to even.
#ifndef EDGELOOP_ARCH_COST_MODEL_H_
#define EDGELOOP_ARCH_COST_MODEL_H_

#include <array>
#include <cstdint>

#include "proto/arch.pb.h"

namespace edgeloop::arch {

struct StageGeometry {
  int64_t d = 0, h = 0, w = 0;      // token grid of the stage (before merging)
  std::array<int64_t, 3> window{};  // effective (clipped) window
  bool shifted = false;             // whether odd blocks shift (any dim unclipped)
  int64_t dp = 0, hp = 0, wp = 0;   // grid padded to a multiple of the window
  int64_t windows = 0;              // windows per sample
  int64_t window_tokens = 0;        // tokens per window (N)
  int64_t tokens = 0;               // real tokens d*h*w
  int64_t padded_tokens = 0;        // dp*hp*wp
  int64_t width = 0;                // channels C
  int64_t heads = 0;
  int64_t depth = 0;
  int64_t mlp_hidden = 0;
};

// The geometry of the four stages for `arch` (its resolution and frames).
std::array<StageGeometry, 4> ComputeGeometry(const ArchConfig& arch);

struct FlopsByOp {
  int64_t patch_embed = 0;
  int64_t qkv = 0;
  int64_t attention = 0;  // q·kᵀ + attn·v
  int64_t proj = 0;
  int64_t mlp = 0;
  int64_t merge = 0;
  int64_t head = 0;
  int64_t Total() const { return patch_embed + qkv + attention + proj + mlp + merge + head; }
};

struct Cost {
  int64_t params = 0;
  int64_t flops = 0;  // multiply-accumulates per sample
  FlopsByOp by_op;
  // Largest activation tensor of one sample (floats), e.g. for memory features.
  int64_t peak_activation_floats = 0;
};

// The architecture must pass ValidateStructure.
Cost ComputeCost(const ArchConfig& arch);
int64_t CountParams(const ArchConfig& arch);

}  // namespace edgeloop::arch

#endif  // EDGELOOP_ARCH_COST_MODEL_H_
