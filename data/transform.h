// The sample transform: one scan line's frames -> one model input and its targets.
//
// Defaults follow the reference preprocessing:
//   1. crop `crop` x `crop` (41) pixels centred on the brightest pixel of the line's mean
//      frame (first maximum in row-major order); pixels outside the frame are black (0);
//   2. a temporal window of `frames` (16) frames: at `offset` (training: random, evaluation:
//      centred, see WindowOffset); a line shorter than the window is placed at the start and
//      the missing frames are zeros in the output;
//   3. scale to [0, 1] and normalise: (x / 255 - mean) / std, mean 0.45, std 0.225;
//   4. resize the square crop to resolution x resolution (bilinear, half-pixel centres as
//      torch's interpolate with align_corners=false; for a square crop this equals the
//      reference's short-side resize + centre crop).
// Output: [1, frames, resolution, resolution] floats, row-major; targets (speed / 900,
// power / 215).
#ifndef EDGELOOP_DATA_TRANSFORM_H_
#define EDGELOOP_DATA_TRANSFORM_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"

namespace edgeloop {
class Rng;
}

namespace edgeloop::data {

struct TransformOptions {
  int crop = 41;
  int frames = 16;
  float mean = 0.45f;
  float std = 0.225f;
  double speed_scale = 900;  // targets = (speed / speed_scale, power / power_scale)
  double power_scale = 215;
};

absl::Status ValidateTransformOptions(const TransformOptions& options);

// First frame of the temporal window: training draws uniformly from [0, n - frames], evaluation
// takes (n - frames) / 2; 0 when the line is shorter than the window.
int64_t WindowOffset(int64_t num_frames, int window, bool train, Rng* rng);

// Row and column of the brightest pixel of the mean frame (first maximum, row-major).
void BrightestPixel(const uint8_t* frames, int64_t num_frames, int height, int width, int* row,
                    int* col);

// Writes one sample ([1, T, R, R] floats) to `out`, which must hold T * R * R floats.
void TransformFrames(const uint8_t* frames, int64_t num_frames, int height, int width,
                     int64_t offset, int resolution, const TransformOptions& options, float* out);

void Targets(double speed, double power, const TransformOptions& options, float* out);

}  // namespace edgeloop::data

#endif  // EDGELOOP_DATA_TRANSFORM_H_
