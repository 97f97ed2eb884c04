// 3D window geometry of shifted-window attention, as in the reference Video Swin.
//
// On a token grid (D, H, W) a window dimension larger than or equal to the grid is clipped
// to the grid, and a clipped dimension is never shifted. The grid is padded at the end to a
// multiple of the window. Odd blocks roll the grid by half the configured window in each
// unclipped dimension; the attention mask then keeps tokens from attending across the
// seams of the roll (-100 added to their logits), exactly as the reference's compute_mask.
#ifndef EDGELOOP_SUPERNET_WINDOW_GEOMETRY_H_
#define EDGELOOP_SUPERNET_WINDOW_GEOMETRY_H_

#include <array>
#include <cstdint>

#include <torch/torch.h>

#include "supernet/subnet_dims.h"

namespace edgeloop::supernet {

struct WindowPlan {
  Dims3 grid{};    // real token grid (D, H, W)
  Dims3 window{};  // window after clipping to the grid
  Dims3 shift{};   // roll of the shifted blocks; 0 in clipped dimensions
  Dims3 padded{};  // grid padded to a multiple of the window
  bool shifted() const { return shift[0] > 0 || shift[1] > 0 || shift[2] > 0; }
  int64_t window_tokens() const { return window[0] * window[1] * window[2]; }
  int64_t num_windows() const {
    return (padded[0] / window[0]) * (padded[1] / window[1]) * (padded[2] / window[2]);
  }
};

WindowPlan PlanWindows(const Dims3& grid, const Dims3& window_config);

// [B, Dp, Hp, Wp, C] -> [B * windows, N, C].
torch::Tensor WindowPartition(const torch::Tensor& x, const Dims3& window);
// [B * windows, N, C] -> [B, Dp, Hp, Wp, C].
torch::Tensor WindowReverse(const torch::Tensor& windows, const Dims3& window, int64_t batch,
                            const Dims3& padded);

// Attention mask of the shifted blocks: [windows, N, N], 0 or -100.
torch::Tensor ShiftedWindowMask(const WindowPlan& plan);

// relative_position_index buffer of a configured window: [N, N] int64 rows of the
// (2Wd-1)(2Wh-1)(2Ww-1)-row relative position bias table.
torch::Tensor RelativePositionIndex(const Dims3& window_config);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_WINDOW_GEOMETRY_H_
