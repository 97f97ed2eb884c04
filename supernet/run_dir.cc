#include "supernet/run_dir.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "base/atomic_file.h"
#include "base/hash.h"
#include "base/json_limits.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"

namespace edgeloop::supernet {
namespace {

constexpr char kSpaceFile[] = "space.textproto";
constexpr char kRunFile[] = "run.json";
constexpr char kCheckpointDir[] = "checkpoints";
constexpr char kLatestFile[] = "latest";
constexpr char kCheckpointFormat[] = "edgeloop-supernet-checkpoint-v1";
constexpr char kRunFormat[] = "edgeloop-run-v1";

std::string Join(const std::string& dir, const std::string& name) { return dir + "/" + name; }

absl::Status Guard(const std::string& what, const std::function<absl::Status()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    const std::string message = e.what();  // c10::Error appends a backtrace
    return absl::InternalError(absl::StrCat(what, ": ", message.substr(0, message.find('\n'))));
  }
}

int64_t ExtraInt(const Checkpoint& checkpoint, const std::string& key, int64_t fallback) {
  auto it = checkpoint.extras.find(key);
  return it != checkpoint.extras.end() && it->second.isInt() ? it->second.toInt() : fallback;
}

}  // namespace

std::string SpaceFingerprint(const arch::Space& space) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(space.spec(), &text);
  return absl::StrFormat("%016x", Fnv1a64(text));
}

absl::Status WriteCheckpoint(const std::string& path, const Checkpoint& checkpoint) {
  return Guard("writing checkpoint " + path, [&] {
    c10::Dict<std::string, torch::Tensor> model;
    for (const auto& [name, tensor] : checkpoint.model)
      model.insert(name, tensor.detach().cpu().contiguous());
    c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
    for (const auto& [key, value] : checkpoint.extras) root.insert(key, value);
    root.insert_or_assign("format", std::string(kCheckpointFormat));
    root.insert_or_assign("space_name", checkpoint.space_name);
    root.insert_or_assign("space_fingerprint", checkpoint.space_fingerprint);
    root.insert_or_assign("step", checkpoint.step);
    root.insert_or_assign("model", model);
    std::vector<char> bytes = torch::pickle_save(root);
    return WriteFileAtomically(path, absl::string_view(bytes.data(), bytes.size()));
  });
}

absl::StatusOr<Checkpoint> ReadCheckpoint(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  Checkpoint out;
  absl::Status s = Guard("reading checkpoint " + path, [&]() -> absl::Status {
    torch::IValue value = torch::pickle_load(std::vector<char>(bytes->begin(), bytes->end()));
    auto bad = absl::InvalidArgumentError(
        absl::StrCat(path, ": not an edgeloop supernet checkpoint (", kCheckpointFormat, ")"));
    if (!value.isGenericDict()) return bad;
    for (const auto& entry : value.toGenericDict()) {
      if (!entry.key().isString()) return bad;
      const std::string key = entry.key().toStringRef();
      const c10::IValue& v = entry.value();
      if (key == "format") {
        if (!v.isString() || v.toStringRef() != kCheckpointFormat) return bad;
      } else if (key == "space_name" && v.isString()) {
        out.space_name = v.toStringRef();
      } else if (key == "space_fingerprint" && v.isString()) {
        out.space_fingerprint = v.toStringRef();
      } else if (key == "step" && v.isInt()) {
        out.step = v.toInt();
      } else if (key == "model" && v.isGenericDict()) {
        for (const auto& t : v.toGenericDict()) {
          if (!t.key().isString() || !t.value().isTensor()) return bad;
          out.model[t.key().toStringRef()] = t.value().toTensor();
        }
      } else {
        out.extras[key] = v;
      }
    }
    if (out.space_fingerprint.empty() || out.model.empty()) return bad;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status LoadCheckpointInto(const Checkpoint& checkpoint, SupernetImpl& net) {
  const std::string mine = SpaceFingerprint(net.space());
  if (checkpoint.space_fingerprint != mine) {
    return absl::FailedPreconditionError(
        absl::StrCat("checkpoint belongs to another search space: \"", checkpoint.space_name,
                     "\" (fingerprint ", checkpoint.space_fingerprint, "), the supernet's is \"",
                     net.space().name(), "\" (fingerprint ", mine, ")"));
  }
  return LoadStateDict(net, checkpoint.model);
}

TrainingPosition TrainingPositionOf(const Checkpoint& checkpoint) {
  TrainingPosition position;
  position.step = checkpoint.step;
  position.epoch = ExtraInt(checkpoint, "epoch", 0);
  position.batch_in_epoch = ExtraInt(checkpoint, "batch", 0);
  position.world_size = ExtraInt(checkpoint, "world_size", -1);
  position.global_batch = ExtraInt(checkpoint, "global_batch", 0);
  return position;
}

absl::Status LoadOptimizerState(const Checkpoint& checkpoint, const std::string& path,
                                torch::optim::Optimizer& optimizer) {
  auto it = checkpoint.extras.find("optimizer");
  if (it == checkpoint.extras.end() || !it->second.isTensor())
    return absl::DataLossError(absl::StrCat(path, ": no optimizer state"));
  return Guard("loading the optimizer state", [&] {
    torch::Tensor bytes = it->second.toTensor().contiguous();
    std::istringstream in(std::string(static_cast<const char*>(bytes.data_ptr()),
                                      static_cast<size_t>(bytes.numel())));
    torch::serialize::InputArchive archive;
    archive.load_from(in);
    optimizer.load(archive);
    return absl::OkStatus();
  });
}

absl::StatusOr<RunDir> RunDir::Create(const std::string& dir, const std::string& space_path,
                                      uint64_t seed) {
  absl::StatusOr<std::string> text = ReadFile(space_path);
  if (!text.ok()) return text.status();
  absl::StatusOr<arch::Space> space = arch::Space::FromText(*text, space_path);
  if (!space.ok()) return space.status();
  return CreateWith(dir, *text, *space, seed);
}

absl::StatusOr<RunDir> RunDir::CreateWith(const std::string& dir, const std::string& text,
                                          const arch::Space& space, uint64_t seed) {
  std::error_code ec;
  if (std::filesystem::exists(Join(dir, kRunFile), ec)) {
    return absl::AlreadyExistsError(
        absl::StrCat(dir, " already holds a run (", kRunFile, "); choose another --out"));
  }
  std::filesystem::create_directories(Join(dir, kCheckpointDir), ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create ", Join(dir, kCheckpointDir), ": ", ec.message()));
  }
  if (absl::Status s = WriteFileAtomically(Join(dir, kSpaceFile), text); !s.ok()) return s;
  RunDir run(dir, space, seed);
  absl::StatusOr<Supernet> net = MakeSupernet(space, seed);
  if (!net.ok()) return net.status();
  if (absl::Status s = run.SaveCheckpoint(**net, 0); !s.ok()) return s;
  const std::string json = absl::StrFormat(
      "{\"format\":\"%s\",\"space_name\":\"%s\",\"space_fingerprint\":\"%s\",\"seed\":%d,"
      "\"created_unix\":%d}\n",
      kRunFormat, space.name(), SpaceFingerprint(space), seed,
      static_cast<int64_t>(std::time(nullptr)));
  if (absl::Status s = WriteFileAtomically(Join(dir, kRunFile), json); !s.ok()) return s;
  return run;
}

absl::Status RunDir::PrepareForTraining(const std::string& dir, const arch::Space& space,
                                        const std::string& space_text, uint64_t seed, bool resume) {
  absl::StatusOr<RunDir> existing = Open(dir);
  if (existing.ok()) {
    if (!resume) {
      return absl::AlreadyExistsError(absl::StrCat(
          dir, " already holds a run; pass --resume to continue it or choose another --out"));
    }
    if (SpaceFingerprint(existing->space()) != SpaceFingerprint(space)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--resume: ", dir, " was trained for space '", existing->space().name(),
                       "', not for '", space.name(), "' (another space or architecture)"));
    }
    return absl::OkStatus();
  }
  // A damaged or foreign run directory: never overwrite it.
  if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  if (resume) {
    return absl::NotFoundError(
        absl::StrCat("--resume: ", dir, " holds no run to continue; start it without --resume"));
  }
  return CreateWith(dir, space_text, space, seed).status();
}

absl::StatusOr<RunDir> RunDir::Open(const std::string& dir) {
  absl::StatusOr<std::string> json = ReadFile(Join(dir, kRunFile));
  if (!json.ok()) {
    return absl::NotFoundError(absl::StrCat(dir, " is not a run directory (no ", kRunFile,
                                            "; create one with `edgeloop init`)"));
  }
  google::protobuf::Struct root;
  if (!CheckJsonLimits(*json, kRunFile).ok() ||
      !google::protobuf::util::JsonStringToMessage(*json, &root).ok() ||
      !root.fields().contains("format") ||
      root.fields().at("format").string_value() != kRunFormat) {
    return absl::InvalidArgumentError(
        absl::StrCat(Join(dir, kRunFile), ": not an edgeloop run file (", kRunFormat, ")"));
  }
  uint64_t seed = 0;
  if (root.fields().contains("seed"))
    seed = static_cast<uint64_t>(root.fields().at("seed").number_value());
  absl::StatusOr<arch::Space> space = arch::Space::FromFile(Join(dir, kSpaceFile));
  if (!space.ok()) return space.status();
  RemoveStaleTempFiles(dir);  // checkpoints and files of writers that were killed
  RemoveStaleTempFiles(Join(dir, kCheckpointDir));
  return RunDir(dir, *space, seed);
}

absl::StatusOr<std::string> RunDir::LatestCheckpointPath() const {
  const std::string checkpoints = Join(dir_, kCheckpointDir);
  absl::StatusOr<std::string> name = ReadFile(Join(checkpoints, kLatestFile));
  if (!name.ok()) return absl::NotFoundError(absl::StrCat(dir_, " holds no checkpoint"));
  return Join(checkpoints, std::string(absl::StripAsciiWhitespace(*name)));
}

std::vector<std::pair<int64_t, std::string>> RunDir::CheckpointFiles() const {
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(Join(dir_, kCheckpointDir), ec)) {
    const std::string name = e.path().filename().string();
    int64_t step;
    if (name.size() == 17 && absl::StartsWith(name, "ckpt-") && absl::EndsWith(name, ".pt") &&
        absl::SimpleAtoi(name.substr(5, 9), &step)) {
      out.emplace_back(step, e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<Checkpoint> RunDir::ReadNewestCheckpoint(std::string* path) const {
  const auto files = CheckpointFiles();
  if (files.empty()) return absl::NotFoundError(absl::StrCat(dir_, " holds no checkpoint"));
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    absl::StatusOr<Checkpoint> checkpoint = ReadCheckpoint(it->second);
    if (checkpoint.ok()) {
      if (path != nullptr) *path = it->second;
      return checkpoint;
    }
    std::fprintf(stderr, "edgeloop: warning: %s is damaged (%s); trying an older checkpoint\n",
                 it->second.c_str(), std::string(checkpoint.status().message()).c_str());
  }
  return absl::DataLossError(absl::StrCat("every checkpoint in ", dir_, " is damaged"));
}

absl::StatusOr<Supernet> RunDir::LoadSupernet() const {
  std::string path;
  absl::StatusOr<Checkpoint> checkpoint = ReadNewestCheckpoint(&path);
  if (!checkpoint.ok()) return checkpoint.status();
  Supernet net{nullptr};
  absl::Status built = Guard("building the supernet", [&] {
    net = Supernet(space_);
    return absl::OkStatus();
  });
  if (!built.ok()) return built;
  if (absl::Status s = LoadCheckpointInto(*checkpoint, *net); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  }
  return net;
}

absl::Status RunDir::SaveCheckpoint(SupernetImpl& net, int64_t step,
                                    const std::map<std::string, c10::IValue>& extras,
                                    int keep_last) const {
  Checkpoint checkpoint;
  checkpoint.space_name = space_.name();
  checkpoint.space_fingerprint = SpaceFingerprint(space_);
  checkpoint.step = step;
  checkpoint.model = StateDictOf(net);
  checkpoint.extras = extras;
  const std::string name = absl::StrFormat("ckpt-%09d.pt", step);
  const std::string checkpoints = Join(dir_, kCheckpointDir);
  if (absl::Status s = WriteCheckpoint(Join(checkpoints, name), checkpoint); !s.ok()) return s;
  if (absl::Status s = WriteFileAtomically(Join(checkpoints, kLatestFile), name + "\n"); !s.ok())
    return s;
  if (keep_last <= 0) return absl::OkStatus();
  const auto files = CheckpointFiles();
  std::error_code ec;
  for (size_t i = 0; i + static_cast<size_t>(keep_last) < files.size(); ++i)
    std::filesystem::remove(files[i].second, ec);
  return absl::OkStatus();
}

absl::Status RunDir::SaveTrainingCheckpoint(SupernetImpl& net, torch::optim::Optimizer& optimizer,
                                            const TrainingPosition& position, int keep_last) const {
  std::ostringstream optimizer_bytes;
  absl::Status serialised = Guard("saving the optimizer state", [&] {
    torch::serialize::OutputArchive archive;
    optimizer.save(archive);
    archive.save_to(optimizer_bytes);
    return absl::OkStatus();
  });
  if (!serialised.ok()) return serialised;
  const std::string bytes = optimizer_bytes.str();
  std::map<std::string, c10::IValue> extras;
  extras["epoch"] = position.epoch;
  extras["batch"] = position.batch_in_epoch;
  extras["world_size"] = position.world_size;
  extras["global_batch"] = position.global_batch;
  // Bytes as a uint8 tensor keep the checkpoint loadable by Python's torch.load.
  extras["optimizer"] = torch::from_blob(const_cast<char*>(bytes.data()),
                                         {static_cast<int64_t>(bytes.size())}, torch::kUInt8)
                            .clone();
  return SaveCheckpoint(net, position.step, extras, keep_last);
}

}  // namespace edgeloop::supernet
