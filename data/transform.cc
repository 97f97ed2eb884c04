#include "data/transform.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/rng.h"

namespace edgeloop::data {

absl::Status ValidateTransformOptions(const TransformOptions& o) {
  if (o.crop < 1)
    return absl::InvalidArgumentError(absl::StrCat("crop: got ", o.crop, ", expected >= 1"));
  if (o.frames < 1)
    return absl::InvalidArgumentError(absl::StrCat("frames: got ", o.frames, ", expected >= 1"));
  if (!(o.std > 0)) return absl::InvalidArgumentError("normalisation std must be > 0");
  if (!(o.speed_scale > 0) || !(o.power_scale > 0))
    return absl::InvalidArgumentError("target scales must be > 0");
  return absl::OkStatus();
}

int64_t WindowOffset(int64_t num_frames, int window, bool train, Rng* rng) {
  const int64_t slack = num_frames - window;
  if (slack <= 0) return 0;
  return train ? static_cast<int64_t>(rng->Uniform(static_cast<uint64_t>(slack) + 1)) : slack / 2;
}

void BrightestPixel(const uint8_t* frames, int64_t num_frames, int height, int width, int* row,
                    int* col) {
  const size_t pixels = static_cast<size_t>(height) * width;
  std::vector<uint64_t> sum(pixels, 0);
  for (int64_t t = 0; t < num_frames; ++t) {
    const uint8_t* f = frames + static_cast<size_t>(t) * pixels;
    for (size_t i = 0; i < pixels; ++i) sum[i] += f[i];
  }
  const size_t best = static_cast<size_t>(std::max_element(sum.begin(), sum.end()) - sum.begin());
  *row = static_cast<int>(best / width);
  *col = static_cast<int>(best % width);
}

namespace {

// Source taps of a 1-D bilinear resize from `in` to `out` samples (half-pixel centres).
struct Taps {
  std::vector<int> lo, hi;
  std::vector<float> w_hi;
};

Taps ResizeTaps(int in, int out) {
  Taps taps;
  const double scale = static_cast<double>(in) / out;
  for (int i = 0; i < out; ++i) {
    double src = std::max(0.0, (i + 0.5) * scale - 0.5);
    int lo = std::min(static_cast<int>(src), in - 1);
    int hi = std::min(lo + 1, in - 1);
    taps.lo.push_back(lo);
    taps.hi.push_back(hi);
    taps.w_hi.push_back(static_cast<float>(src - lo));
  }
  return taps;
}

}  // namespace

void TransformFrames(const uint8_t* frames, int64_t num_frames, int height, int width,
                     int64_t offset, int resolution, const TransformOptions& options, float* out) {
  int centre_row, centre_col;
  BrightestPixel(frames, num_frames, height, width, &centre_row, &centre_col);
  const int c = options.crop;
  const int top = centre_row - c / 2, left = centre_col - c / 2;
  const Taps taps = ResizeTaps(c, resolution);
  const float scale = 1.0f / (255.0f * options.std), shift = options.mean / options.std;
  const size_t plane = static_cast<size_t>(resolution) * resolution;
  std::vector<float> crop(static_cast<size_t>(c) * c), rows(static_cast<size_t>(resolution) * c);
  for (int t = 0; t < options.frames; ++t) {
    float* dst = out + t * plane;
    const int64_t src_t = offset + t;
    if (src_t >= num_frames) {  // zero-padding of short lines, in the normalised output
      std::fill(dst, dst + plane, 0.0f);
      continue;
    }
    const uint8_t* frame = frames + static_cast<size_t>(src_t) * height * width;
    for (int y = 0; y < c; ++y) {
      const int sy = top + y;
      for (int x = 0; x < c; ++x) {
        const int sx = left + x;
        const bool inside = sy >= 0 && sy < height && sx >= 0 && sx < width;
        crop[static_cast<size_t>(y * c + x)] =
            inside ? frame[static_cast<size_t>(sy) * width + sx] : 0.0f;
      }
    }
    // Separable bilinear resize (rows first), then normalisation, which commutes with it.
    for (int y = 0; y < resolution; ++y) {
      const float* a = &crop[static_cast<size_t>(taps.lo[y]) * c];
      const float* b = &crop[static_cast<size_t>(taps.hi[y]) * c];
      const float w = taps.w_hi[y];
      float* r = &rows[static_cast<size_t>(y) * c];
      for (int x = 0; x < c; ++x) r[x] = a[x] + w * (b[x] - a[x]);
    }
    for (int y = 0; y < resolution; ++y) {
      const float* r = &rows[static_cast<size_t>(y) * c];
      float* o = dst + static_cast<size_t>(y) * resolution;
      for (int x = 0; x < resolution; ++x) {
        const float a = r[taps.lo[x]], b = r[taps.hi[x]];
        o[x] = (a + taps.w_hi[x] * (b - a)) * scale - shift;
      }
    }
  }
}

void Targets(double speed, double power, const TransformOptions& options, float* out) {
  out[0] = static_cast<float>(speed / options.speed_scale);
  out[1] = static_cast<float>(power / options.power_scale);
}

}  // namespace edgeloop::data
