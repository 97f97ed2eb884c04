#include "supernet/run_dir.h"

#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "google/protobuf/text_format.h"

namespace edgeloop::supernet {
namespace {

constexpr char kFormat[] = "edgeloop-run/1";

std::string Fnv64Hex(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return absl::StrFormat("%016x", h);
}

// Parameters and buffers by name, as a checkpoint stores them.
std::vector<std::pair<std::string, torch::Tensor>> NamedState(torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : model.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

}  // namespace

std::string SpaceHash(const Space& space) {
  std::string text;
  google::protobuf::TextFormat::Printer printer;
  printer.SetSingleLineMode(true);
  printer.PrintToString(space.spec(), &text);
  return "space:" + Fnv64Hex(text);
}

std::string ArchHash(const ArchConfig& arch) { return "arch:" + CanonicalKey(arch); }

absl::StatusOr<RunDir> RunDir::Create(const std::string& path, Kind kind,
                                      const std::string& descriptor_file,
                                      const std::string& descriptor_text,
                                      const std::string& model_hash, const std::string& name,
                                      uint64_t seed, const std::string& config_json) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path + "/run.json", ec)) {
    return absl::AlreadyExistsError(
        absl::StrCat(path, " already holds a run (run.json); choose another --out or resume"));
  }
  fs::create_directories(path + "/checkpoints", ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("cannot create ", path, ": ", ec.message()));
  if (auto s = WriteFileAtomically(path + "/" + descriptor_file, descriptor_text); !s.ok())
    return s;
  std::string run_json = absl::StrCat(
      "{\"format\":", JsonQuote(kFormat), ",\"kind\":",
      JsonQuote(kind == Kind::kSupernet ? "supernet" : "standalone"), ",\"name\":",
      JsonQuote(name), ",\"model_hash\":", JsonQuote(model_hash), ",\"seed\":", seed,
      ",\"config\":", config_json.empty() ? "{}" : config_json, "}\n");
  // run.json last: its presence marks a complete run directory.
  if (auto s = WriteFileAtomically(path + "/run.json", run_json); !s.ok()) return s;
  return Open(path);
}

absl::StatusOr<RunDir> RunDir::CreateSupernet(const std::string& path, const Space& space,
                                              const std::string& space_text, uint64_t seed,
                                              const std::string& config_json) {
  return Create(path, Kind::kSupernet, "space.textproto", space_text, SpaceHash(space),
                space.name(), seed, config_json);
}

absl::StatusOr<RunDir> RunDir::CreateStandalone(const std::string& path, const ArchConfig& arch,
                                                uint64_t seed, const std::string& config_json) {
  return Create(path, Kind::kStandalone, "arch.json", ArchToJson(arch) + "\n", ArchHash(arch),
                CanonicalKey(arch), seed, config_json);
}

absl::StatusOr<RunDir> RunDir::Open(const std::string& path) {
  const std::string run_path = path + "/run.json";
  auto text = ReadFile(run_path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not an edgeloop run directory (no readable run.json)"));
  }
  auto run = ParseJsonObject(*text, run_path);
  if (!run.ok()) return run.status();
  auto format = JsonString(*run, "format", run_path);
  if (!format.ok() || *format != kFormat) {
    return absl::InvalidArgumentError(
        absl::StrCat(run_path, ": unsupported run format (expected ", kFormat, ")"));
  }
  auto kind = JsonString(*run, "kind", run_path);
  auto hash = JsonString(*run, "model_hash", run_path);
  auto seed = JsonNumber(*run, "seed", run_path);
  if (!kind.ok()) return kind.status();
  if (!hash.ok()) return hash.status();
  if (!seed.ok()) return seed.status();
  RunDir dir;
  dir.path_ = path;
  dir.seed_ = static_cast<uint64_t>(*seed);
  if (*kind == "supernet") {
    dir.kind_ = Kind::kSupernet;
    auto space = Space::FromFile(path + "/space.textproto");
    if (!space.ok()) return space.status();
    if (SpaceHash(*space) != *hash) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, "/space.textproto was changed after the run was created (hash ",
          SpaceHash(*space), ", run.json says ", *hash, ")"));
    }
    dir.space_ = std::move(*space);
  } else if (*kind == "standalone") {
    dir.kind_ = Kind::kStandalone;
    auto arch_text = ReadFile(path + "/arch.json");
    if (!arch_text.ok()) return arch_text.status();
    auto arch = ArchFromJson(*arch_text);
    if (!arch.ok())
      return absl::InvalidArgumentError(absl::StrCat(path, "/arch.json: ", arch.status().message()));
    dir.arch_ = *arch;
    if (ArchHash(*arch) != *hash) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, "/arch.json does not match run.json's model ", *hash));
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(run_path, ": unknown kind '", *kind, "' (supernet or standalone)"));
  }
  dir.model_hash_ = *hash;
  return dir;
}

train::CheckpointDir RunDir::Checkpoints(int keep) const {
  return train::CheckpointDir(path_ + "/checkpoints", keep);
}

absl::Status RunDir::SaveCheckpoint(int64_t step, torch::nn::Module& model,
                                    const std::string& metadata_json,
                                    const train::ArchiveWriter& extra, int keep) const {
  std::string meta = absl::StrCat("{\"step\":", step, ",\"model_hash\":", JsonQuote(model_hash_),
                                  ",\"extra\":", metadata_json.empty() ? "{}" : metadata_json,
                                  "}");
  auto state = NamedState(model);
  return Checkpoints(keep).Save(step, meta, [&](torch::serialize::OutputArchive& archive) {
    torch::serialize::OutputArchive weights;
    for (const auto& [name, tensor] : state) weights.write(name, tensor.detach().to(torch::kCPU));
    archive.write("model", weights);
    if (extra) extra(archive);
  });
}

absl::StatusOr<train::LoadedCheckpoint> RunDir::LoadLatest() const {
  auto loaded = Checkpoints().LoadLatest();
  if (!loaded.ok()) return loaded.status();
  auto meta = ParseJsonObject(loaded->metadata_json, loaded->path);
  if (!meta.ok()) return meta.status();
  auto hash = JsonString(*meta, "model_hash", loaded->path);
  if (!hash.ok()) return hash.status();
  if (*hash != model_hash_) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint ", loaded->path, " belongs to ",
                                                   *hash, ", not to this run's ", model_hash_));
  }
  return loaded;
}

absl::Status RunDir::LoadWeights(const train::LoadedCheckpoint& checkpoint,
                                 torch::nn::Module& model) {
  torch::serialize::InputArchive weights;
  try {
    checkpoint.archive->read("model", weights);
  } catch (const std::exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint ", checkpoint.path, " holds no model weights"));
  }
  std::set<std::string> stored;
  for (const auto& key : weights.keys()) stored.insert(key);
  std::vector<std::string> missing, mis_shaped;
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : NamedState(model)) {
    if (!stored.count(name)) {
      missing.push_back(name);
      continue;
    }
    torch::Tensor value;
    weights.read(name, value);
    if (value.sizes() != tensor.sizes()) {
      mis_shaped.push_back(absl::StrCat(name, " (checkpoint ", c10::str(value.sizes()),
                                        ", model ", c10::str(tensor.sizes()), ")"));
      continue;
    }
    tensor.copy_(value);
    stored.erase(name);
  }
  if (!missing.empty() || !mis_shaped.empty() || !stored.empty()) {
    std::vector<std::string> parts;
    if (!missing.empty()) parts.push_back("missing: " + absl::StrJoin(missing, ", "));
    if (!mis_shaped.empty()) parts.push_back("mis-shaped: " + absl::StrJoin(mis_shaped, ", "));
    if (!stored.empty()) parts.push_back("unexpected: " + absl::StrJoin(stored, ", "));
    return absl::InvalidArgumentError(absl::StrCat("checkpoint ", checkpoint.path,
                                                   " does not fit the model; ",
                                                   absl::StrJoin(parts, "; ")));
  }
  return absl::OkStatus();
}

}  // namespace edgeloop::supernet
