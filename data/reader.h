// Streaming reader of RAISE-LPBF-Laser HDF5 files.
//
// Two layouts are understood:
//   v1.0  one file, groups /<object>/<layer>/ (e.g. /C027/layer0202/)
//   v1.1  one file per object (C027.hdf5), top-level groups layerNNNN
// Each layer holds `frame` (uint8 [n_frames, H, W]), `scan_line_index` (integer [n_frames],
// the scan line of each frame) and, in labelled files, `laser_params` ([n_lines, 2]:
// speed in mm/s, power in W; row s labels scan line s).
//
// Open() builds an index of objects, layers and scan lines (frame ranges and labels) by reading
// only `scan_line_index` and `laser_params`; frames stay on disk and ReadFrames() fetches one
// scan line as a hyperslab. A path may also be a directory: its *.hdf5/*.h5 files, sorted.
//
// Structural errors (missing file, not HDF5, a missing or mistyped dataset, a
// `scan_line_index` whose length differs from `frame`, a line whose frames are not
// contiguous) fail Open() with a message naming file, group and dataset. Isolated bad lines
// (a line without a label, a labelled line without frames, frames with a negative line index,
// NaN labels) are skipped, counted in skips() and described in skips().examples.
// A file without any `laser_params` is valid and unlabelled.
//
// ReadFrames() is safe to call from several threads.
#ifndef EDGELOOP_DATA_READER_H_
#define EDGELOOP_DATA_READER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/versions.h"

namespace edgeloop::data {

enum class Layout { kV10, kV11 };
const char* LayoutName(Layout layout);  // "v1.0" / "v1.1"

struct LayerInfo {
  int file = 0;            // index into Reader::files()
  std::string object;      // e.g. "C027"
  std::string name;        // e.g. "layer0202"
  int64_t number = -1;     // 202; -1 when the name carries no number
  std::string group_path;  // HDF5 path of the layer group, e.g. "/C027/layer0202"
  int64_t num_frames = 0;
  int height = 0, width = 0;
  bool labelled = false;   // the layer has laser_params
  int64_t first_line = 0;  // its scan lines are lines()[first_line, first_line + num_lines)
  int64_t num_lines = 0;
};

struct ScanLine {
  int layer = 0;            // index into Reader::layers()
  int64_t line = 0;         // the value in scan_line_index
  int64_t first_frame = 0;  // frames [first_frame, first_frame + num_frames) of the layer
  int64_t num_frames = 0;
  bool labelled = false;
  double speed = 0, power = 0;  // mm/s and W, when labelled
};

struct SkipReport {
  int64_t lines_without_labels = 0;   // frames carry a line index beyond laser_params
  int64_t lines_without_frames = 0;   // laser_params rows no frame refers to
  int64_t lines_with_bad_labels = 0;  // NaN / infinite / non-positive speed or power
  int64_t frames_without_line = 0;    // negative scan_line_index
  int64_t empty_layers = 0;           // layers with zero frames
  std::vector<std::string> examples;  // the first few, as messages naming file and group
  int64_t total() const {
    return lines_without_labels + lines_without_frames + lines_with_bad_labels +
           frames_without_line + empty_layers;
  }
};

class Reader {
 public:
  static absl::StatusOr<std::unique_ptr<Reader>> Open(const std::vector<std::string>& paths);
  ~Reader();

  const std::vector<std::string>& files() const { return files_; }
  Layout layout(int file) const { return layouts_[file]; }
  const std::vector<LayerInfo>& layers() const { return layers_; }
  const std::vector<ScanLine>& lines() const { return lines_; }
  const SkipReport& skips() const { return skips_; }
  // Object names in order of first appearance (files in order, objects sorted per file).
  std::vector<std::string> Objects() const;
  // True when every indexed scan line carries a label (and there is at least one line).
  bool labelled() const;

  // Reads the frames of lines()[index] as uint8 [num_frames, height, width].
  absl::Status ReadFrames(int64_t index, std::vector<uint8_t>* frames) const;

 private:
  Reader() = default;
  absl::Status IndexFile(int file);
  absl::Status IndexLayer(int file, const std::string& object, const std::string& group_path);
  void NoteSkip(const std::string& message);
  // Sets line's (speed, power) from its row of the layer's laser_params (params: rows x cols,
  // row-major); false, counting and noting the skip, when it has no row or an unusable label.
  bool LabelLine(const std::vector<double>& params, int64_t rows, int64_t cols,
                 const std::string& where, ScanLine* line);

  struct Handles;  // open HDF5 files and cached `frame` datasets (keeps hdf5.h private)
  std::vector<std::string> files_;
  std::vector<Layout> layouts_;
  std::unique_ptr<Handles> handles_;
  std::vector<LayerInfo> layers_;
  std::vector<ScanLine> lines_;
  SkipReport skips_;
  mutable std::mutex read_mutex_;  // the handles are shared by the reading threads
};

// The version of HDF5 the data module is built and runs with (see base/versions.h).
std::vector<LibraryVersion> LibraryVersions();

}  // namespace edgeloop::data

#endif  // EDGELOOP_DATA_READER_H_
