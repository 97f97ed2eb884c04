#include "data/synth.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/atomic_file.h"
#include "base/hash.h"
#include "base/interrupt.h"
#include "base/rng.h"
#include "data/h5.h"

namespace edgeloop::data {
namespace {

// Physical constants of the model. The field of view is fixed (1.28 mm), so a larger frame
// size only means finer pixels: every length in pixels scales with frame_size / 64.
constexpr double kPi = 3.14159265358979323846;
constexpr double kFrameRateHz = 20000;               // the RAISE camera
constexpr double kFieldOfViewMm = 1.28;              // 20 um pixels at 64 x 64
constexpr double kSpeedMin = 200, kSpeedMax = 1600;  // mm/s
constexpr double kPowerMin = 75, kPowerMax = 355;    // W
constexpr double kLineLengthMinMm = 0.4, kLineLengthMaxMm = 2.0;
constexpr double kHatchRotationDeg = 67;  // scan direction turns by 67 degrees per layer
constexpr int kTextureSize = 128;         // periodic powder texture tile (power of two)

uint64_t LineStream(const std::string& object, int layer, int64_t line) {
  // FNV-1a over the object name, then layer and line.
  return FnvMix(FnvMix(Fnv1a64(object), static_cast<uint64_t>(layer)), static_cast<uint64_t>(line));
}

double Uniform(Rng* rng, double lo, double hi) { return lo + (hi - lo) * rng->UniformDouble(); }

// Approximately normal noise from one 64-bit draw (sum of four 16-bit uniforms): sensor noise
// is drawn per pixel, where Box-Muller would dominate the generation time.
double FastNormal(Rng* rng) {
  uint64_t r = rng->Next();
  double sum =
      static_cast<double>((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48));
  return (sum / 65535.0 - 2.0) * 1.7320508075688772;  // variance of 4 U(0,1) is 1/3
}

int Poisson(Rng* rng, double lambda) {
  const double limit = std::exp(-lambda);
  double p = rng->UniformDouble();
  int k = 0;
  while (p > limit) {
    p *= rng->UniformDouble();
    ++k;
  }
  return k;
}

// A periodic powder-bed texture in [0, 1]: fine grains on a coarser mottle.
std::vector<float> PowderTexture(Rng* rng) {
  auto lattice = [&](int step) {
    const int n = kTextureSize / step;
    std::vector<float> grid(static_cast<size_t>(n * n));
    for (float& g : grid) g = static_cast<float>(rng->UniformDouble());
    std::vector<float> out(kTextureSize * kTextureSize);
    for (int y = 0; y < kTextureSize; ++y) {
      for (int x = 0; x < kTextureSize; ++x) {
        const double fy = static_cast<double>(y) / step, fx = static_cast<double>(x) / step;
        const int y0 = static_cast<int>(fy), x0 = static_cast<int>(fx);
        const double ty = fy - y0, tx = fx - x0;
        auto at = [&](int yy, int xx) {
          return grid[static_cast<size_t>((yy % n) * n + (xx % n))];
        };
        out[static_cast<size_t>(y * kTextureSize + x)] =
            static_cast<float>((1 - ty) * ((1 - tx) * at(y0, x0) + tx * at(y0, x0 + 1)) +
                               ty * ((1 - tx) * at(y0 + 1, x0) + tx * at(y0 + 1, x0 + 1)));
      }
    }
    return out;
  };
  std::vector<float> fine = lattice(2), coarse = lattice(16);
  for (size_t i = 0; i < fine.size(); ++i) fine[i] = 0.65f * fine[i] + 0.35f * coarse[i];
  return fine;
}

float SampleTexture(const std::vector<float>& tex, double y, double x) {
  const double fy = std::floor(y), fx = std::floor(x);
  const double ty = y - fy, tx = x - fx;
  const int y0 = static_cast<int>(fy) & (kTextureSize - 1),
            x0 = static_cast<int>(fx) & (kTextureSize - 1);
  const int y1 = (y0 + 1) & (kTextureSize - 1), x1 = (x0 + 1) & (kTextureSize - 1);
  auto at = [&](int yy, int xx) { return tex[static_cast<size_t>(yy * kTextureSize + xx)]; };
  return static_cast<float>((1 - ty) * ((1 - tx) * at(y0, x0) + tx * at(y0, x1)) +
                            ty * ((1 - tx) * at(y1, x0) + tx * at(y1, x1)));
}

struct Spatter {
  double y, x, vy, vx, brightness;
  int life;
};

bool EndsWithHdf5(const std::string& path) {
  const std::string lower = absl::AsciiStrToLower(path);
  return absl::EndsWith(lower, ".hdf5") || absl::EndsWith(lower, ".h5");
}

}  // namespace

absl::Status ValidateSynthOptions(const SynthOptions& o) {
  if (o.out.empty()) return absl::InvalidArgumentError("no output path given");
  if (o.objects.empty()) return absl::InvalidArgumentError("no objects given");
  for (const std::string& object : o.objects) {
    if (object.empty() || object.find_first_of("/. ") != std::string::npos ||
        absl::StartsWith(object, "layer"))
      return absl::InvalidArgumentError(
          absl::StrCat("object name '", object,
                       "' is not usable as a group name (non-empty, no '/', '.', ' ', "
                       "not starting with 'layer')"));
  }
  if (o.layers < 1 || o.layers > 100000)
    return absl::InvalidArgumentError(
        absl::StrCat("layers: got ", o.layers, ", expected 1..100000"));
  if (o.first_layer < 0) return absl::InvalidArgumentError("first layer must be >= 0");
  if (o.lines_per_layer < 1 || o.lines_per_layer > 1000000)
    return absl::InvalidArgumentError(
        absl::StrCat("lines per layer: got ", o.lines_per_layer, ", expected 1..1000000"));
  if (o.frame_size < 8 || o.frame_size > 1024)
    return absl::InvalidArgumentError(
        absl::StrCat("frame size: got ", o.frame_size, ", expected 8..1024"));
  if (o.min_frames < 1 || o.max_frames < o.min_frames)
    return absl::InvalidArgumentError(absl::StrCat("frame count range [", o.min_frames, ", ",
                                                   o.max_frames, "] is empty or below 1"));
  if (o.gzip_level < 0 || o.gzip_level > 9)
    return absl::InvalidArgumentError(
        absl::StrCat("gzip level: got ", o.gzip_level, ", expected 0..9"));
  if (o.layout == Layout::kV11 && o.objects.size() > 1 && EndsWithHdf5(o.out))
    return absl::InvalidArgumentError(absl::StrCat(
        "layout v1.1 writes one file per object: give a directory as the output, not ", o.out));
  return absl::OkStatus();
}

void RenderLine(const SynthOptions& options, const std::string& object, int layer, int64_t line,
                SynthLine* meta, std::vector<uint8_t>* frames) {
  Rng rng = Rng::Derive(options.seed, LineStream(object, layer, line));
  const int size = options.frame_size;
  const double px = size / 64.0;  // pixels per 20 um
  const double pitch_mm = kFieldOfViewMm / size;

  // Laser parameters and the line's geometry.
  const double speed = Uniform(&rng, kSpeedMin, kSpeedMax);
  const double power = Uniform(&rng, kPowerMin, kPowerMax);
  const double length_mm = Uniform(&rng, kLineLengthMinMm, kLineLengthMaxMm);
  const int64_t n = std::clamp<int64_t>(std::llround(length_mm / speed * kFrameRateHz),
                                        options.min_frames, options.max_frames);
  meta->object = object;
  meta->layer = layer;
  meta->line = line;
  meta->speed = speed;
  meta->power = power;
  meta->num_frames = n;

  // Scan direction: rotated per layer, alternating per line (bidirectional hatching).
  const double angle =
      (kHatchRotationDeg * layer + (line % 2 ? 180.0 : 0.0)) * kPi / 180.0 + 0.05 * rng.Normal();
  const double dir_x = std::cos(angle), dir_y = std::sin(angle);

  // Melt pool: length ~ P/sqrt(v), width ~ sqrt(P/v), brightness saturating in P/v.
  const double energy = power / speed;  // J/mm
  const double pool_length = 0.95 * power / std::sqrt(speed) * px;
  const double pool_width = 10.0 * std::sqrt(energy) * px;
  const double brightness = 1.0 - std::exp(-energy / 0.25);
  const double front = 0.4 * pool_width + 0.5, back = 0.5 * pool_length + 0.4 * pool_width + 0.5;
  const double side = 0.5 * pool_width + 0.5;
  const double glow_decay = 3.0 * pool_length + 5.0 * px;

  // Per-line jitter: pool position in the frame, sensor gain, bed brightness.
  const double centre_y = 0.5 * (size - 1) + 0.08 * size * (2 * rng.UniformDouble() - 1);
  const double centre_x = 0.5 * (size - 1) + 0.08 * size * (2 * rng.UniformDouble() - 1);
  const double gain = 1.0 + 0.05 * rng.Normal();
  const double bed_level = 0.03 + 0.02 * rng.UniformDouble();
  const double illumination_radius = 12.0 * px;
  const double power_rel = power / 215.0;
  const double bed_step = speed / kFrameRateHz / pitch_mm;  // pixels per frame
  const double spatter_rate = 0.6 * power_rel * power_rel;  // new particles per frame
  const std::vector<float> texture = PowderTexture(&rng);
  const double texture_scale = 1.0 / px;  // texture grains stay ~20-40 um at any frame size

  frames->assign(static_cast<size_t>(n * size * size), 0);
  std::vector<float> field(static_cast<size_t>(size * size));
  std::vector<Spatter> spatter;
  double amplitude = 0, stretch = 0;  // AR(1) melt-pool fluctuations
  for (int64_t t = 0; t < n; ++t) {
    amplitude = 0.8 * amplitude + 0.6 * 0.06 * rng.Normal();
    stretch = 0.8 * stretch + 0.6 * 0.08 * rng.Normal();
    const double cy = centre_y + 0.3 * px * rng.Normal(), cx = centre_x + 0.3 * px * rng.Normal();
    const double shift = bed_step * static_cast<double>(t);  // the bed moves against the scan
    const double pool_gain = 1.6 * brightness * (1 + amplitude);
    const double back_t = back * (1 + stretch);
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) {
        const double dy = y - cy, dx = x - cx;
        const double u = dx * dir_x + dy * dir_y;   // ahead of the pool along the scan
        const double w = -dx * dir_y + dy * dir_x;  // across the track
        const double ua = u >= 0 ? u / front : u / back_t;
        const double pool = std::exp(-(ua * ua + (w / side) * (w / side)));
        const double glow =
            u < 0 ? 0.25 * brightness *
                        std::exp(u / glow_decay - (w / (0.6 * side + 1)) * (w / (0.6 * side + 1)))
                  : 0.0;
        const double r2 = (dy * dy + dx * dx) / (illumination_radius * illumination_radius);
        const double lit = 0.3 + 0.7 * power_rel * std::exp(-0.5 * r2);
        const double tex = SampleTexture(texture, (y + shift * dir_y) * texture_scale,
                                         (x + shift * dir_x) * texture_scale);
        field[static_cast<size_t>(y * size + x)] =
            static_cast<float>(bed_level + 0.10 * tex * lit + pool_gain * pool + glow);
      }
    }
    // Spatter: ejected mostly backwards from the pool, a few frames of flight.
    for (int k = Poisson(&rng, spatter_rate); k > 0; --k) {
      const double a = angle + kPi + 0.9 * rng.Normal();
      const double v = Uniform(&rng, 1.5, 4.5) * px;
      spatter.push_back({cy, cx, v * std::sin(a), v * std::cos(a), Uniform(&rng, 0.6, 1.2),
                         static_cast<int>(3 + rng.Uniform(6))});
    }
    const double sigma = 0.7 * px;
    const int reach = static_cast<int>(std::ceil(2.5 * sigma));
    for (Spatter& s : spatter) {
      s.y += s.vy;
      s.x += s.vx;
      --s.life;
      const int iy = static_cast<int>(std::lround(s.y)), ix = static_cast<int>(std::lround(s.x));
      for (int y = std::max(0, iy - reach); y <= std::min(size - 1, iy + reach); ++y)
        for (int x = std::max(0, ix - reach); x <= std::min(size - 1, ix + reach); ++x) {
          const double d2 = ((y - s.y) * (y - s.y) + (x - s.x) * (x - s.x)) / (sigma * sigma);
          field[static_cast<size_t>(y * size + x)] +=
              static_cast<float>(s.brightness * std::exp(-0.5 * d2));
        }
    }
    spatter.erase(std::remove_if(spatter.begin(), spatter.end(),
                                 [](const Spatter& s) { return s.life <= 0; }),
                  spatter.end());
    // Sensor: saturating response, gain, read and shot noise, 8-bit quantisation.
    uint8_t* out = frames->data() + static_cast<size_t>(t * size * size);
    for (size_t i = 0; i < field.size(); ++i) {
      const double value = 255.0 * gain * (1.0 - std::exp(-1.5 * field[i]));
      const double noisy = value + FastNormal(&rng) * std::sqrt(2.25 + 0.36 * std::max(0.0, value));
      out[i] = static_cast<uint8_t>(std::clamp(std::lround(noisy), 0l, 255l));
    }
  }
}

std::vector<std::string> SynthOutputFiles(const SynthOptions& options) {
  if (options.layout == Layout::kV10) return {options.out};
  if (options.objects.size() == 1 && EndsWithHdf5(options.out)) return {options.out};
  std::vector<std::string> files;
  for (const std::string& object : options.objects)
    files.push_back((std::filesystem::path(options.out) / (object + ".hdf5")).string());
  return files;
}

namespace {

// Writes the layers of one object under `parent` (the object group for v1.0, the root for v1.1).
absl::Status WriteObject(const SynthOptions& options, const std::string& object, hid_t parent,
                         std::vector<SynthLine>* truth,
                         const std::function<void(int64_t, int64_t)>& progress,
                         int64_t* frames_done) {
  const int size = options.frame_size;
  std::vector<uint8_t> layer_frames, line_frames;
  std::vector<int32_t> line_index;
  std::vector<double> params;
  for (int l = 0; l < options.layers; ++l) {
    const int layer = options.first_layer + l;
    layer_frames.clear();
    line_index.clear();
    params.clear();
    for (int64_t line = 0; line < options.lines_per_layer; ++line) {
      if (Interrupted()) return absl::CancelledError("interrupted; no file written");
      SynthLine meta;
      RenderLine(options, object, layer, line, &meta, &line_frames);
      layer_frames.insert(layer_frames.end(), line_frames.begin(), line_frames.end());
      line_index.insert(line_index.end(), static_cast<size_t>(meta.num_frames),
                        static_cast<int32_t>(line));
      params.push_back(meta.speed);
      params.push_back(meta.power);
      truth->push_back(meta);
    }
    const std::string name = absl::StrFormat("layer%04d", layer);
    h5::Handle group = h5::CreateGroup(parent, name);
    if (!group.valid())
      return absl::InternalError(absl::StrCat("cannot create group ", name, ": ", h5::LastError()));
    const int64_t n = static_cast<int64_t>(line_index.size());
    if (auto s = h5::WriteDataset(group.id(), "frame", H5T_STD_U8LE, H5T_NATIVE_UINT8,
                                  {n, size, size}, layer_frames.data(),
                                  {std::min<int64_t>(n, 32), size, size}, options.gzip_level);
        !s.ok())
      return s;
    if (auto s = h5::WriteDataset(group.id(), "scan_line_index", H5T_STD_I32LE, H5T_NATIVE_INT32,
                                  {n}, line_index.data());
        !s.ok())
      return s;
    if (options.labelled) {
      if (auto s = h5::WriteDataset(group.id(), "laser_params", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                                    {options.lines_per_layer, 2}, params.data());
          !s.ok())
        return s;
    }
    *frames_done += n;
    if (progress) progress(static_cast<int64_t>(truth->size()), *frames_done);
  }
  return absl::OkStatus();
}

// Writes the whole file at `temp`; every HDF5 id is closed before it returns, groups before
// the file (closing a file under an open group crashes HDF5 at exit), and the file's final
// close is checked: it writes what HDF5 buffered, so a full disk can fail only there.
absl::Status WriteTemp(const SynthOptions& options, const std::string& temp,
                       const std::vector<std::string>& objects, std::vector<SynthLine>* truth,
                       const std::function<void(int64_t, int64_t)>& progress,
                       int64_t* frames_done) {
  auto file = h5::CreateFile(temp);
  if (!file.ok()) return file.status();
  const std::string stamp = absl::StrCat("edgeloop data synth, seed ", options.seed);
  if (auto s = h5::WriteStringAttribute(file->id(), "generator", stamp); !s.ok()) return s;
  if (auto s = h5::WriteStringAttribute(file->id(), "layout", LayoutName(options.layout)); !s.ok())
    return s;
  for (const std::string& object : objects) {
    h5::Handle object_group;
    hid_t parent = file->id();
    if (options.layout == Layout::kV10) {
      object_group = h5::CreateGroup(file->id(), object);
      parent = object_group.id();
    }
    if (auto s = WriteObject(options, object, parent, truth, progress, frames_done); !s.ok())
      return s;
    if (!object_group.Close())
      return absl::InternalError(absl::StrCat("closing group ", object, ": ", h5::LastError()));
  }
  if (H5Fflush(file->id(), H5F_SCOPE_GLOBAL) < 0)
    return absl::InternalError(absl::StrCat("flush failed: ", h5::LastError()));
  if (!file->Close()) return absl::InternalError(absl::StrCat("close failed: ", h5::LastError()));
  return absl::OkStatus();
}

// The file appears at `path` complete or not at all: a failure (a full disk included)
// removes the temporary file and names `path`.
absl::Status WriteFile(const SynthOptions& options, const std::string& path,
                       const std::vector<std::string>& objects, std::vector<SynthLine>* truth,
                       const std::function<void(int64_t, int64_t)>& progress,
                       int64_t* frames_done) {
  const std::string temp = absl::StrCat(path, ".tmp-", getpid());
  const std::filesystem::path target(path);
  const std::string dir = target.parent_path().string();
  // What a generator killed while writing this same file left behind.
  RemoveStaleTempFiles(dir.empty() ? "." : dir, target.filename().string() + ".tmp-");
  if (absl::Status s = WriteTemp(options, temp, objects, truth, progress, frames_done); !s.ok()) {
    std::remove(temp.c_str());
    return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::remove(temp.c_str());
    return absl::InternalError(
        absl::StrCat("cannot rename ", temp, " to ", path, ": ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<SynthLine>> WriteSynthetic(
    const SynthOptions& options, const std::function<void(int64_t, int64_t)>& progress) {
  if (auto s = ValidateSynthOptions(options); !s.ok()) return s;
  h5::QuietErrors();
  const std::vector<std::string> files = SynthOutputFiles(options);
  for (const std::string& file : files) {
    std::error_code ec;
    const std::filesystem::path dir = std::filesystem::path(file).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
    if (ec)
      return absl::InvalidArgumentError(
          absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  }
  std::vector<SynthLine> truth;
  int64_t frames_done = 0;
  if (options.layout == Layout::kV10) {
    if (auto s = WriteFile(options, files[0], options.objects, &truth, progress, &frames_done);
        !s.ok())
      return s;
  } else {
    for (size_t i = 0; i < files.size(); ++i)
      if (auto s =
              WriteFile(options, files[i], {options.objects[i]}, &truth, progress, &frames_done);
          !s.ok())
        return s;
  }
  return truth;
}

}  // namespace edgeloop::data
