#include "data/reader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "data/h5.h"

namespace edgeloop::data {

const char* LayoutName(Layout layout) { return layout == Layout::kV10 ? "v1.0" : "v1.1"; }

// Open `frame` datasets are kept for a few recently read layers: reopening costs little, but
// each open dataset owns an HDF5 chunk cache (1 MiB), so keeping one per layer of a file with
// thousands of layers would make memory grow with the file.
constexpr size_t kOpenFrameDatasets = 16;

struct Reader::Handles {
  std::vector<h5::Handle> files;
  std::vector<std::pair<int, h5::Handle>> frames;  // (layer, dataset), most recent last
};

namespace {

constexpr int kMaxSkipExamples = 8;

const char* ClassName(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "float";
    case H5T_STRING:
      return "string";
    case H5T_COMPOUND:
      return "compound";
    case H5T_ENUM:
      return "enum";
    case H5T_ARRAY:
      return "array";
    default:
      return "non-numeric";
  }
}

std::string ShapeText(const h5::DatasetInfo& info) {
  std::string s = absl::StrCat(ClassName(info.type_class), info.type_size * 8, " [");
  for (size_t i = 0; i < info.dims.size(); ++i) absl::StrAppend(&s, i ? ", " : "", info.dims[i]);
  return s + "]";
}

// A layer's optional laser_params dataset: [rows, cols >= 2] of (speed, power, ...) per scan
// line, row-major; `present` is false when the layer has none.
struct LaserParams {
  bool present = false;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<double> values;
};

// `where` prefixes the errors ("FILE: /GROUP/laser_params: ").
absl::StatusOr<LaserParams> ReadLaserParams(hid_t group, const std::string& where) {
  LaserParams params;
  if (!h5::LinkExists(group, "laser_params")) return params;
  h5::Handle labels = h5::OpenDataset(group, "laser_params");
  if (!labels.valid()) return absl::InvalidArgumentError(absl::StrCat(where, "not a dataset"));
  auto info = h5::Describe(labels.id());
  if (!info.ok()) return absl::InvalidArgumentError(absl::StrCat(where, info.status().message()));
  if ((info->type_class != H5T_FLOAT && info->type_class != H5T_INTEGER) ||
      info->dims.size() != 2 || info->dims[1] < 2)
    return absl::InvalidArgumentError(absl::StrCat(
        where, "expected numeric [n_lines, 2] (speed, power), found ", ShapeText(*info)));
  params.rows = info->dims[0];
  params.cols = info->dims[1];
  params.values.resize(static_cast<size_t>(params.rows * params.cols));
  if (!params.values.empty() && H5Dread(labels.id(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
                                        H5P_DEFAULT, params.values.data()) < 0)
    return absl::InvalidArgumentError(absl::StrCat(where, "read failed: ", h5::LastError()));
  params.present = true;
  return params;
}

// Opens a layer group's `frame` (uint8 [n_frames, height, width]) and `scan_line_index`
// (integer [n_frames]) datasets and checks their shapes; returns frame's description.
// where(dataset) prefixes the errors.
absl::StatusOr<h5::DatasetInfo> OpenLayerDatasets(
    hid_t group, const std::function<std::string(const std::string&)>& where, h5::Handle* frame,
    h5::Handle* index) {
  for (const char* required : {"frame", "scan_line_index"}) {
    if (!h5::LinkExists(group, required))
      return absl::InvalidArgumentError(absl::StrCat(where(required), "missing dataset"));
  }
  *frame = h5::OpenDataset(group, "frame");
  *index = h5::OpenDataset(group, "scan_line_index");
  if (!frame->valid())
    return absl::InvalidArgumentError(absl::StrCat(where("frame"), "not a dataset"));
  if (!index->valid())
    return absl::InvalidArgumentError(absl::StrCat(where("scan_line_index"), "not a dataset"));
  auto frame_info = h5::Describe(frame->id());
  if (!frame_info.ok())
    return absl::InvalidArgumentError(absl::StrCat(where("frame"), frame_info.status().message()));
  if (frame_info->type_class != H5T_INTEGER || frame_info->type_size != 1 ||
      frame_info->dims.size() != 3)
    return absl::InvalidArgumentError(
        absl::StrCat(where("frame"), "expected uint8 [n_frames, height, width], found ",
                     ShapeText(*frame_info)));
  auto index_info = h5::Describe(index->id());
  if (!index_info.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(where("scan_line_index"), index_info.status().message()));
  if (index_info->type_class != H5T_INTEGER || index_info->dims.size() != 1)
    return absl::InvalidArgumentError(absl::StrCat(
        where("scan_line_index"), "expected integer [n_frames], found ", ShapeText(*index_info)));
  const int64_t n_frames = frame_info->dims[0];
  if (index_info->dims[0] != n_frames)
    return absl::InvalidArgumentError(absl::StrCat(where("scan_line_index"), "has ",
                                                   index_info->dims[0], " entries but frame has ",
                                                   n_frames, " frames"));
  return frame_info;
}

int64_t LayerNumber(const std::string& name) {
  int64_t n;
  if (absl::StartsWith(name, "layer") && absl::SimpleAtoi(name.substr(5), &n)) return n;
  return -1;
}

// Expands directories into their HDF5 files, sorted by name.
absl::StatusOr<std::vector<std::string>> ExpandPaths(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (!std::filesystem::is_directory(path, ec)) {
      files.push_back(path);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(path, ec)) {
      std::string ext = entry.path().extension().string();
      if (entry.is_regular_file() && (ext == ".hdf5" || ext == ".h5"))
        found.push_back(entry.path());
    }
    if (found.empty())
      return absl::NotFoundError(absl::StrCat(path, ": directory holds no *.hdf5 or *.h5 file"));
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  if (files.empty()) return absl::InvalidArgumentError("no data file given");
  return files;
}

}  // namespace

Reader::~Reader() = default;

absl::StatusOr<std::unique_ptr<Reader>> Reader::Open(const std::vector<std::string>& paths) {
  auto files = ExpandPaths(paths);
  if (!files.ok()) return files.status();
  std::unique_ptr<Reader> reader(new Reader());
  reader->handles_ = std::make_unique<Handles>();
  reader->files_ = *files;
  for (int f = 0; f < static_cast<int>(reader->files_.size()); ++f) {
    auto handle = h5::OpenFile(reader->files_[f]);
    if (!handle.ok()) return handle.status();
    reader->handles_->files.push_back(std::move(*handle));
    if (auto s = reader->IndexFile(f); !s.ok()) return s;
  }
  return reader;
}

void Reader::NoteSkip(const std::string& message) {
  if (static_cast<int>(skips_.examples.size()) < kMaxSkipExamples)
    skips_.examples.push_back(message);
}

absl::Status Reader::IndexFile(int file) {
  const std::string& path = files_[file];
  hid_t root = handles_->files[file].id();
  auto children = h5::ListChildren(root);
  if (!children.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", children.status().message()));
  std::vector<std::string> layer_groups, object_groups;
  for (const std::string& name : *children) {
    if (!h5::IsGroup(root, name)) continue;
    (absl::StartsWith(name, "layer") ? layer_groups : object_groups).push_back(name);
  }
  if (layer_groups.empty() && object_groups.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(path,
                     ": no object or layer groups (expected /<object>/<layer>/frame for v1.0 or "
                     "/layerNNNN/frame for v1.1)"));
  if (!layer_groups.empty() && !object_groups.empty())
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": mixes top-level layer groups (v1.1) with object groups (v1.0), e.g. /",
        layer_groups[0], " and /", object_groups[0]));
  auto by_number = [](std::vector<std::string>* names) {
    std::stable_sort(names->begin(), names->end(), [](const std::string& a, const std::string& b) {
      return LayerNumber(a) < LayerNumber(b);
    });
  };
  if (!layer_groups.empty()) {
    layouts_.push_back(Layout::kV11);
    std::string object = std::filesystem::path(path).stem().string();
    by_number(&layer_groups);
    for (const std::string& layer : layer_groups)
      if (auto s = IndexLayer(file, object, "/" + layer); !s.ok()) return s;
    return absl::OkStatus();
  }
  layouts_.push_back(Layout::kV10);
  for (const std::string& object : object_groups) {
    h5::Handle group = h5::OpenGroup(root, object);
    auto layers = h5::ListChildren(group.id());
    if (!layers.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": /", object, ": ", layers.status().message()));
    std::vector<std::string> names;
    for (const std::string& l : *layers)
      if (h5::IsGroup(group.id(), l)) names.push_back(l);
    by_number(&names);
    for (const std::string& layer : names)
      if (auto s = IndexLayer(file, object, absl::StrCat("/", object, "/", layer)); !s.ok())
        return s;
  }
  return absl::OkStatus();
}

absl::Status Reader::IndexLayer(int file, const std::string& object,
                                const std::string& group_path) {
  const std::string& path = files_[file];
  auto where = [&](const std::string& dataset) {
    return absl::StrCat(path, ": ", group_path, "/", dataset, ": ");
  };
  h5::Handle group = h5::OpenGroup(handles_->files[file].id(), group_path);
  if (!group.valid())
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", group_path, ": cannot open group: ", h5::LastError()));
  h5::Handle frame, index;
  absl::StatusOr<h5::DatasetInfo> frame_info = OpenLayerDatasets(group.id(), where, &frame, &index);
  if (!frame_info.ok()) return frame_info.status();
  const int64_t n_frames = frame_info->dims[0];

  LayerInfo layer;
  layer.file = file;
  layer.object = object;
  layer.name = group_path.substr(group_path.rfind('/') + 1);
  layer.number = LayerNumber(layer.name);
  layer.group_path = group_path;
  layer.num_frames = n_frames;
  layer.height = static_cast<int>(frame_info->dims[1]);
  layer.width = static_cast<int>(frame_info->dims[2]);
  layer.first_line = static_cast<int64_t>(lines_.size());

  std::vector<int64_t> line_of_frame(static_cast<size_t>(n_frames));
  if (n_frames > 0 && H5Dread(index.id(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                              line_of_frame.data()) < 0)
    return absl::InvalidArgumentError(
        absl::StrCat(where("scan_line_index"), "read failed: ", h5::LastError()));

  absl::StatusOr<LaserParams> labels = ReadLaserParams(group.id(), where("laser_params"));
  if (!labels.ok()) return labels.status();
  layer.labelled = labels->present;

  if (n_frames == 0) {
    ++skips_.empty_layers;
    NoteSkip(absl::StrCat(path, ": ", group_path, "/frame: layer has no frames"));
  }
  std::map<int64_t, int64_t> seen;  // line -> first frame, to detect split runs
  std::vector<bool> has_frames(static_cast<size_t>(labels->rows), false);
  int64_t negative_frames = 0;
  for (int64_t start = 0; start < n_frames;) {
    const int64_t id = line_of_frame[start];
    int64_t end = start + 1;
    while (end < n_frames && line_of_frame[end] == id) ++end;
    const int64_t count = end - start;
    if (id < 0) {
      negative_frames += count;
    } else if (auto [it, inserted] = seen.emplace(id, start); !inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(where("scan_line_index"), "scan line ", id,
                       " has frames in two separate runs (from frame ", it->second,
                       " and from frame ", start, "); a line's frames must be contiguous"));
    } else {
      ScanLine line;
      line.layer = static_cast<int>(layers_.size());
      line.line = id;
      line.first_frame = start;
      line.num_frames = count;
      bool keep = true;
      if (layer.labelled) {
        if (id < labels->rows) has_frames[static_cast<size_t>(id)] = true;
        keep = LabelLine(labels->values, labels->rows, labels->cols, where("laser_params"), &line);
      }
      if (keep) lines_.push_back(line);
    }
    start = end;
  }
  if (negative_frames > 0) {
    skips_.frames_without_line += negative_frames;
    NoteSkip(absl::StrCat(where("scan_line_index"), negative_frames,
                          " frames with a negative scan line index skipped"));
  }
  const int64_t orphans = std::count(has_frames.begin(), has_frames.end(), false);
  if (orphans > 0) {
    skips_.lines_without_frames += orphans;
    NoteSkip(absl::StrCat(where("laser_params"), orphans, " labelled scan lines have no frames"));
  }
  layer.num_lines = static_cast<int64_t>(lines_.size()) - layer.first_line;
  layers_.push_back(std::move(layer));
  return absl::OkStatus();
}

bool Reader::LabelLine(const std::vector<double>& params, int64_t rows, int64_t cols,
                       const std::string& where, ScanLine* line) {
  const int64_t id = line->line;
  if (id >= rows) {
    ++skips_.lines_without_labels;
    NoteSkip(absl::StrCat(where, "no row for scan line ", id, " (", rows, " rows); line skipped"));
    return false;
  }
  line->speed = params[static_cast<size_t>(id * cols)];
  line->power = params[static_cast<size_t>(id * cols + 1)];
  line->labelled = true;
  if (!std::isfinite(line->speed) || !std::isfinite(line->power) || line->speed <= 0 ||
      line->power <= 0) {
    ++skips_.lines_with_bad_labels;
    NoteSkip(absl::StrCat(where, "scan line ", id, " has label (", line->speed, ", ", line->power,
                          "); line skipped"));
    return false;
  }
  return true;
}

std::vector<std::string> Reader::Objects() const {
  std::vector<std::string> objects;
  for (const LayerInfo& layer : layers_)
    if (std::find(objects.begin(), objects.end(), layer.object) == objects.end())
      objects.push_back(layer.object);
  return objects;
}

bool Reader::labelled() const {
  if (lines_.empty()) return false;
  return std::all_of(lines_.begin(), lines_.end(), [](const ScanLine& l) { return l.labelled; });
}

absl::Status Reader::ReadFrames(int64_t index, std::vector<uint8_t>* frames) const {
  if (index < 0 || index >= static_cast<int64_t>(lines_.size()))
    return absl::OutOfRangeError(
        absl::StrCat("scan line ", index, " out of range [0, ", lines_.size(), ")"));
  const ScanLine& line = lines_[index];
  const LayerInfo& layer = layers_[line.layer];
  frames->resize(static_cast<size_t>(line.num_frames * layer.height * layer.width));
  std::lock_guard<std::mutex> lock(read_mutex_);
  h5::QuietErrors();
  auto& open = handles_->frames;
  auto it =
      std::find_if(open.begin(), open.end(), [&](const auto& e) { return e.first == line.layer; });
  if (it != open.end()) {
    std::rotate(it, it + 1, open.end());
  } else {
    h5::Handle opened =
        h5::OpenDataset(handles_->files[layer.file].id(), layer.group_path + "/frame");
    if (!opened.valid())
      return absl::DataLossError(absl::StrCat(files_[layer.file], ": ", layer.group_path,
                                              "/frame: cannot open: ", h5::LastError()));
    if (open.size() >= kOpenFrameDatasets) open.erase(open.begin());
    open.emplace_back(line.layer, std::move(opened));
  }
  const h5::Handle& dataset = open.back().second;
  hsize_t start[3] = {static_cast<hsize_t>(line.first_frame), 0, 0};
  hsize_t count[3] = {static_cast<hsize_t>(line.num_frames), static_cast<hsize_t>(layer.height),
                      static_cast<hsize_t>(layer.width)};
  h5::Handle file_space(H5Dget_space(dataset.id()), H5Sclose);
  h5::Handle mem_space(H5Screate_simple(3, count, nullptr), H5Sclose);
  if (H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, count, nullptr) < 0 ||
      H5Dread(dataset.id(), H5T_NATIVE_UINT8, mem_space.id(), file_space.id(), H5P_DEFAULT,
              frames->data()) < 0)
    return absl::DataLossError(absl::StrCat(
        files_[layer.file], ": ", layer.group_path, "/frame: reading frames ", line.first_frame,
        "..", line.first_frame + line.num_frames - 1, " failed: ", h5::LastError()));
  return absl::OkStatus();
}

}  // namespace edgeloop::data
