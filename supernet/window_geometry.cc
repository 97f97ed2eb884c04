#include "supernet/window_geometry.h"

namespace edgeloop::supernet {

WindowPlan PlanWindows(const Dims3& grid, const Dims3& window_config) {
  WindowPlan plan;
  plan.grid = grid;
  for (int i = 0; i < 3; ++i) {
    if (grid[i] <= window_config[i]) {
      plan.window[i] = grid[i];
      plan.shift[i] = 0;
    } else {
      plan.window[i] = window_config[i];
      plan.shift[i] = window_config[i] / 2;
    }
    plan.padded[i] = (grid[i] + plan.window[i] - 1) / plan.window[i] * plan.window[i];
  }
  return plan;
}

torch::Tensor WindowPartition(const torch::Tensor& x, const Dims3& window) {
  const int64_t b = x.size(0), c = x.size(4);
  return x
      .view({b, x.size(1) / window[0], window[0], x.size(2) / window[1], window[1],
             x.size(3) / window[2], window[2], c})
      .permute({0, 1, 3, 5, 2, 4, 6, 7})
      .contiguous()
      .view({-1, window[0] * window[1] * window[2], c});
}

torch::Tensor WindowReverse(const torch::Tensor& windows, const Dims3& window, int64_t batch,
                            const Dims3& padded) {
  return windows
      .view({batch, padded[0] / window[0], padded[1] / window[1], padded[2] / window[2], window[0],
             window[1], window[2], -1})
      .permute({0, 1, 4, 2, 5, 3, 6, 7})
      .contiguous()
      .view({batch, padded[0], padded[1], padded[2], -1});
}

torch::Tensor ShiftedWindowMask(const WindowPlan& plan) {
  // Region of a coordinate along one dimension: before the last window, inside it before
  // the seam, after the seam. With no shift the reference labels the whole axis alike.
  auto region = [&](int dim, int64_t p) -> int64_t {
    if (plan.shift[dim] == 0) return 0;
    const int64_t size = plan.padded[dim];
    if (p < size - plan.window[dim]) return 0;
    return p < size - plan.shift[dim] ? 1 : 2;
  };
  const Dims3& pd = plan.padded;
  torch::Tensor labels = torch::empty({1, pd[0], pd[1], pd[2], 1}, torch::kFloat);
  float* out = labels.data_ptr<float>();
  for (int64_t d = 0; d < pd[0]; ++d)
    for (int64_t h = 0; h < pd[1]; ++h)
      for (int64_t w = 0; w < pd[2]; ++w)
        *out++ = static_cast<float>(region(0, d) * 9 + region(1, h) * 3 + region(2, w));
  torch::Tensor windows = WindowPartition(labels, plan.window).squeeze(-1);  // [nW, N]
  torch::Tensor diff = windows.unsqueeze(1) - windows.unsqueeze(2);
  return torch::zeros_like(diff).masked_fill_(diff != 0, -100.0);
}

torch::Tensor RelativePositionIndex(const Dims3& window_config) {
  const int64_t wd = window_config[0], wh = window_config[1], ww = window_config[2];
  const int64_t n = wd * wh * ww;
  torch::Tensor index = torch::empty({n, n}, torch::kLong);
  int64_t* out = index.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t di = i / (wh * ww), hi = (i / ww) % wh, wi = i % ww;
    for (int64_t j = 0; j < n; ++j) {
      const int64_t dj = j / (wh * ww), hj = (j / ww) % wh, wj = j % ww;
      *out++ = (di - dj + wd - 1) * (2 * wh - 1) * (2 * ww - 1) +
               (hi - hj + wh - 1) * (2 * ww - 1) + (wi - wj + ww - 1);
    }
  }
  return index;
}

}  // namespace edgeloop::supernet
