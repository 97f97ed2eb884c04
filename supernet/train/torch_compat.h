// The autocast API differences between LibTorch 1.x and 2.x, in one place.
//
// LibTorch 2.4 replaced the CUDA-only autocast setters (set_autocast_gpu_dtype,
// set_enabled) with per-device-type ones (set_autocast_dtype, set_autocast_enabled); the old
// ones are deprecated there. ScopedCudaAutocast hides which one this LibTorch has.
#ifndef EDGELOOP_SUPERNET_TRAIN_TORCH_COMPAT_H_
#define EDGELOOP_SUPERNET_TRAIN_TORCH_COMPAT_H_

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#define EDGELOOP_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) ||           \
   (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace edgeloop::supernet::train::compat {

// While alive and `on`, CUDA ops run under bf16 autocast; on exit autocast is switched off
// and its cast cache cleared (the cache holds casts of weights that the step will update).
class ScopedCudaAutocast {
 public:
  explicit ScopedCudaAutocast(bool on) : on_(on) {
    if (!on_) return;
#if EDGELOOP_TORCH_AT_LEAST(2, 4)
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
    at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(true);
#endif
  }
  ~ScopedCudaAutocast() {
    if (!on_) return;
#if EDGELOOP_TORCH_AT_LEAST(2, 4)
    at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
    at::autocast::set_enabled(false);
#endif
    at::autocast::clear_cache();
  }
  ScopedCudaAutocast(const ScopedCudaAutocast&) = delete;
  ScopedCudaAutocast& operator=(const ScopedCudaAutocast&) = delete;

 private:
  bool on_;
};

}  // namespace edgeloop::supernet::train::compat

#undef EDGELOOP_TORCH_AT_LEAST

#endif  // EDGELOOP_SUPERNET_TRAIN_TORCH_COMPAT_H_
