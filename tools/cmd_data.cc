// `edgeloop data synth|inspect`: generate synthetic RAISE-LPBF-Laser files, describe data files.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/interrupt.h"
#include "base/progress.h"
#include "data/reader.h"
#include "data/synth.h"
#include "tools/cli/command.h"

namespace edgeloop {
namespace {

using cli::FlagSet;

int DataSynth(const std::vector<std::string>& args) {
  data::SynthOptions o;
  std::string layout = "v1.0", objects = "C027";
  int64_t layers = o.layers, lines = o.lines_per_layer, size = o.frame_size, seed = 0;
  int64_t first_layer = o.first_layer, min_frames = o.min_frames, max_frames = o.max_frames,
          gzip = 0;
  bool unlabelled = false;
  FlagSet flags(
      "data synth",
      "Writes a synthetic RAISE-LPBF-Laser dataset in the real HDF5 layout: per scan line a "
      "laser speed and power and an on-axis melt-pool video (see data/README.md).");
  flags.String("out", &o.out,
               "output: a .hdf5 file (v1.0), or for v1.1 a directory receiving "
               "<object>.hdf5 (a .hdf5 path when there is one object)",
               true);
  flags.String("layout", &layout, "v1.0 (/<object>/<layer>/...) or v1.1 (file per object)");
  flags.String("objects", &objects, "comma-separated object names");
  flags.Int("layers", &layers, "layers per object", cli::Between(1, 100000));
  flags.Int("first-layer", &first_layer, "number of the first layer (groups are layer%04d)",
            cli::Between(0, 1000000));
  flags.Int("lines-per-layer", &lines, "scan lines per layer", cli::Between(1, 1000000));
  flags.Int("frame-size", &size,
            "frame height and width in pixels (field of view fixed at 1.28 mm)",
            cli::Between(8, 1024));
  flags.Int("min-frames", &min_frames, "fewest frames of a scan line", cli::Between(1, 1000000));
  flags.Int("max-frames", &max_frames, "most frames of a scan line", cli::Between(1, 1000000));
  flags.Int("seed", &seed, "random seed; the same seed gives the same pixels in both layouts",
            cli::AtLeast(0));
  flags.Bool("unlabelled", &unlabelled, "omit laser_params, like the public test file");
  flags.Int("gzip", &gzip, "gzip level of the frame chunks, 0 = uncompressed", cli::Between(0, 9));
  int code;
  if (!cli::ParseFlags(&flags, "data synth", args, &code)) return code;
  if (layout == "v1.0") {
    o.layout = data::Layout::kV10;
  } else if (layout == "v1.1") {
    o.layout = data::Layout::kV11;
  } else {
    return cli::ReportError("data synth",
                            absl::InvalidArgumentError(absl::StrCat("flag --layout: got '", layout,
                                                                    "', expected v1.0 or v1.1")));
  }
  // The ranges above keep every value within an int.
  o.objects = absl::StrSplit(objects, ',', absl::SkipWhitespace());
  o.layers = static_cast<int>(layers);
  o.first_layer = static_cast<int>(first_layer);
  o.lines_per_layer = static_cast<int>(lines);
  o.frame_size = static_cast<int>(size);
  o.min_frames = static_cast<int>(min_frames);
  o.max_frames = static_cast<int>(max_frames);
  o.seed = static_cast<uint64_t>(seed);
  o.labelled = !unlabelled;
  o.gzip_level = static_cast<int>(gzip);
  if (auto s = data::ValidateSynthOptions(o); !s.ok()) return cli::ReportError("data synth", s);
  // v1.0, or v1.1 with one object and a .hdf5 name, writes one file; v1.1 otherwise a directory.
  const std::vector<std::string> files = data::SynthOutputFiles(o);
  const bool one_file = files.size() == 1 && files[0] == o.out;
  if (auto s = cli::CheckPath("out", o.out, one_file ? cli::OutputFile() : cli::OutputDir());
      !s.ok())
    return cli::ReportError("data synth", s);
  const int64_t total = static_cast<int64_t>(o.objects.size()) * o.layers * o.lines_per_layer;
  InstallInterruptHandlers();
  Progress progress("synth", total, "lines");
  int64_t frames = 0;
  auto truth = data::WriteSynthetic(o, [&](int64_t done, int64_t frames_done) {
    frames = frames_done;
    progress.Update(done, absl::StrFormat("%d frames", frames_done));
  });
  if (!truth.ok()) return cli::ReportError("data synth", truth.status());
  progress.Finish(absl::StrFormat("%d frames, %.0f frames/s", frames,
                                  frames / std::max(1e-9, progress.ElapsedSeconds())));
  std::printf("wrote %s (%s): %zu objects, %" PRId64 " scan lines, %" PRId64 " frames of %dx%d\n",
              absl::StrJoin(data::SynthOutputFiles(o), ", ").c_str(), layout.c_str(),
              o.objects.size(), total, frames, o.frame_size, o.frame_size);
  return cli::kExitOk;
}

struct Range {
  double min = std::numeric_limits<double>::infinity(),
         max = -std::numeric_limits<double>::infinity();
  double sum = 0;
  int64_t n = 0;
  void Add(double v) {
    min = std::min(min, v);
    max = std::max(max, v);
    sum += v;
    ++n;
  }
  std::string Json() const {
    if (n == 0) return "null";
    return absl::StrFormat("{\"min\":%.6g,\"max\":%.6g,\"mean\":%.6g}", min, max, sum / n);
  }
  std::string Text(const char* unit) const {
    if (n == 0) return "-";
    return absl::StrFormat("%.1f .. %.1f%s%s (mean %.1f)", min, max, *unit ? " " : "", unit,
                           sum / n);
  }
};

int DataInspect(const std::vector<std::string>& args) {
  std::vector<std::string> paths;
  bool json = false;
  FlagSet flags("data inspect",
                "Prints the objects, layers, scan lines, frames, frame size and label "
                "ranges of RAISE-LPBF-Laser HDF5 files (v1.0 or v1.1), and skipped lines.");
  flags.Positional("FILE", &paths, "HDF5 files, or directories of them", 1, 1000);
  flags.Bool("json", &json, "print one JSON object");
  int code;
  if (!cli::ParseFlags(&flags, "data inspect", args, &code)) return code;
  auto reader = data::Reader::Open(paths);
  if (!reader.ok()) return cli::ReportError("data inspect", reader.status());
  const auto& r = **reader;

  struct ObjectStats {
    int64_t layers = 0, lines = 0, frames = 0;
  };
  std::map<std::string, ObjectStats> per_object;
  int64_t frames = 0, labelled_lines = 0;
  int min_h = std::numeric_limits<int>::max(), max_h = 0, min_w = std::numeric_limits<int>::max(),
      max_w = 0;
  for (const auto& layer : r.layers()) {
    auto& s = per_object[layer.object];
    ++s.layers;
    s.lines += layer.num_lines;
    s.frames += layer.num_frames;
    frames += layer.num_frames;
    min_h = std::min(min_h, layer.height);
    max_h = std::max(max_h, layer.height);
    min_w = std::min(min_w, layer.width);
    max_w = std::max(max_w, layer.width);
  }
  Range speed, power, line_frames;
  for (const auto& line : r.lines()) {
    line_frames.Add(static_cast<double>(line.num_frames));
    if (!line.labelled) continue;
    ++labelled_lines;
    speed.Add(line.speed);
    power.Add(line.power);
  }
  std::vector<std::string> layouts;
  for (int f = 0; f < static_cast<int>(r.files().size()); ++f) {
    std::string name = data::LayoutName(r.layout(f));
    if (std::find(layouts.begin(), layouts.end(), name) == layouts.end()) layouts.push_back(name);
  }
  const auto& sk = r.skips();
  const std::string frame_size = min_h == max_h && min_w == max_w
                                     ? absl::StrCat(min_h, "x", min_w)
                                     : absl::StrCat(min_h, "..", max_h, "x", min_w, "..", max_w);
  if (json) {
    std::vector<std::string> files, objects, examples;
    for (const auto& f : r.files()) files.push_back(absl::StrCat("\"", f, "\""));
    for (const auto& name : r.Objects()) {
      const auto& s = per_object[name];
      objects.push_back(
          absl::StrFormat("{\"name\":\"%s\",\"layers\":%d,\"scan_lines\":%d,\"frames\":%d}", name,
                          s.layers, s.lines, s.frames));
    }
    for (const auto& e : sk.examples) {
      std::string escaped;
      for (char c : e)
        escaped += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
      examples.push_back(absl::StrCat("\"", escaped, "\""));
    }
    absl::PrintF(
        "{\"files\":[%s],\"layout\":\"%s\",\"objects\":[%s],\"layers\":%zu,\"scan_lines\":%zu,"
        "\"frames\":%" PRId64
        ",\"frame_size\":{\"height\":[%d,%d],\"width\":[%d,%d]},"
        "\"frames_per_line\":%s,\"labelled\":%s,\"labelled_lines\":%" PRId64
        ",\"speed\":%s,\"power\":%s,"
        "\"skipped\":{\"lines_without_labels\":%" PRId64 ",\"lines_without_frames\":%" PRId64
        ",\"lines_with_bad_labels\":%" PRId64 ",\"frames_without_line\":%" PRId64
        ",\"empty_layers\":%" PRId64 ",\"examples\":[%s]}}\n",
        absl::StrJoin(files, ","), absl::StrJoin(layouts, "+"), absl::StrJoin(objects, ","),
        r.layers().size(), r.lines().size(), frames, min_h, max_h, min_w, max_w, line_frames.Json(),
        r.labelled() ? "true" : "false", labelled_lines, speed.Json(), power.Json(),
        sk.lines_without_labels, sk.lines_without_frames, sk.lines_with_bad_labels,
        sk.frames_without_line, sk.empty_layers, absl::StrJoin(examples, ","));
    return cli::kExitOk;
  }
  std::printf("files:       %s\n", absl::StrJoin(r.files(), ", ").c_str());
  std::printf("layout:      %s\n", absl::StrJoin(layouts, "+").c_str());
  std::printf("objects:     %zu\n", per_object.size());
  for (const auto& name : r.Objects()) {
    const auto& s = per_object[name];
    std::printf("  %-10s %6" PRId64 " layers %9" PRId64 " scan lines %11" PRId64 " frames\n",
                name.c_str(), s.layers, s.lines, s.frames);
  }
  std::printf("layers:      %zu\n", r.layers().size());
  std::printf("scan lines:  %zu (frames per line %s)\n", r.lines().size(),
              line_frames.Text("").c_str());
  std::printf("frames:      %" PRId64 "\n", frames);
  std::printf("frame size:  %s\n", frame_size.c_str());
  std::printf("labelled:    %s (%" PRId64 " of %zu lines)\n", r.labelled() ? "yes" : "no",
              labelled_lines, r.lines().size());
  std::printf("speed:       %s\n", speed.Text("mm/s").c_str());
  std::printf("power:       %s\n", power.Text("W").c_str());
  std::printf("skipped:     %" PRId64 " (lines without labels %" PRId64
              ", lines without frames %" PRId64 ", bad labels %" PRId64
              ", frames without line %" PRId64 ", empty layers %" PRId64 ")\n",
              sk.total(), sk.lines_without_labels, sk.lines_without_frames,
              sk.lines_with_bad_labels, sk.frames_without_line, sk.empty_layers);
  for (const auto& e : sk.examples) std::printf("  %s\n", e.c_str());
  return cli::kExitOk;
}

const cli::CommandRegistrar kRegister({
    {"data synth", "write a synthetic RAISE-LPBF-Laser dataset (HDF5, layout v1.0 or v1.1)",
     DataSynth},
    {"data inspect", "describe RAISE-LPBF-Laser HDF5 files: objects, layers, lines, labels",
     DataInspect},
});

}  // namespace
}  // namespace edgeloop
