// Learning-rate schedule of supernet training: linear warm-up, then cosine decay.
//
// lr(step) rises linearly from 0 to `peak` over `warmup_steps`, then follows a half
// cosine from `peak` down to `peak * final_fraction` at `total_steps`; past the end it
// stays there. Pure function of the step, so a resumed run continues exactly.
#ifndef EDGELOOP_SUPERNET_TRAIN_LR_SCHEDULE_H_
#define EDGELOOP_SUPERNET_TRAIN_LR_SCHEDULE_H_

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace edgeloop::supernet::train {

struct WarmupCosine {
  double peak = 1e-3;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  double final_fraction = 0.0;

  double At(int64_t step) const {
    if (warmup_steps > 0 && step < warmup_steps) {
      return peak * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
    }
    const int64_t decay = std::max<int64_t>(1, total_steps - warmup_steps);
    const double t =
        std::min(1.0, static_cast<double>(step - warmup_steps) / static_cast<double>(decay));
    const double floor = peak * final_fraction;
    return floor + (peak - floor) * 0.5 * (1.0 + std::cos(M_PI * t));
  }
};

}  // namespace edgeloop::supernet::train

#endif  // EDGELOOP_SUPERNET_TRAIN_LR_SCHEDULE_H_
