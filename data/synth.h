// Synthetic RAISE-LPBF-Laser data in the real HDF5 layouts.
//
// Each scan line gets a laser speed (uniform 200-1600 mm/s) and power (uniform 75-355 W) and a
// short on-axis video rendered from a simple physical model (see data/README.md): a melt pool
// whose length grows with power/sqrt(speed), width with sqrt(power/speed) and brightness
// saturating with the energy density power/speed; a powder bed texture moving across the frame
// at the scan speed; spatter whose rate rises with power; per-line jitter and sensor noise.
// A line's frame count follows its length and speed (some lines are shorter than 16 frames).
//
// Everything is a pure function of (seed, object, layer, line): the same seed gives the same
// pixels in both layouts and whatever the order of generation. Files are written to a
// temporary name and renamed, so a crash never leaves a half-written file under the target;
// after SIGINT/SIGTERM (base/interrupt.h) generation stops and the temporary file is removed.
#ifndef EDGELOOP_DATA_SYNTH_H_
#define EDGELOOP_DATA_SYNTH_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/reader.h"

namespace edgeloop::data {

struct SynthOptions {
  // v1.0: a file. v1.1: a directory receiving <object>.hdf5 per object, or a file path ending
  // in .hdf5/.h5 when there is exactly one object.
  std::string out;
  Layout layout = Layout::kV10;
  std::vector<std::string> objects = {"C027"};
  int layers = 4;
  int first_layer = 1;  // layer groups are named layer%04d from here
  int lines_per_layer = 8;
  int frame_size = 64;  // frames are frame_size x frame_size
  int min_frames = 6;   // clamp of the per-line frame count
  int max_frames = 96;
  uint64_t seed = 0;
  bool labelled = true;  // false: no laser_params (like the public test file)
  int gzip_level = 0;    // 0: uncompressed chunks
};

absl::Status ValidateSynthOptions(const SynthOptions& options);

// The ground truth of one generated scan line.
struct SynthLine {
  std::string object;
  int layer = 0;  // layer number
  int64_t line = 0;
  double speed = 0, power = 0;
  int64_t num_frames = 0;
};

// Renders one scan line: fills *meta and *frames (uint8 [num_frames, size, size]).
void RenderLine(const SynthOptions& options, const std::string& object, int layer, int64_t line,
                SynthLine* meta, std::vector<uint8_t>* frames);

// The files WriteSynthetic writes (one for v1.0; one per object for v1.1).
std::vector<std::string> SynthOutputFiles(const SynthOptions& options);

// Writes the dataset; returns the ground truth of every line in file order. `progress`, when
// set, is called after each layer with (lines done, frames done).
absl::StatusOr<std::vector<SynthLine>> WriteSynthetic(
    const SynthOptions& options,
    const std::function<void(int64_t lines, int64_t frames)>& progress = {});

}  // namespace edgeloop::data

#endif  // EDGELOOP_DATA_SYNTH_H_
