#include "supernet/train/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/atomic_file.h"

namespace edgeloop::train {
namespace {

constexpr char kMagic[] = "EDGELOOP-CKPT1\n";  // 15 bytes + NUL
constexpr size_t kMagicLen = sizeof(kMagic) - 1;
constexpr char kTrailer[] = "END!";
constexpr size_t kTrailerLen = 4;

uint64_t Fnv1a(const std::string& a, const std::string& b) {
  uint64_t h = 1469598103934665603ULL;
  for (const std::string* s : {&a, &b}) {
    for (unsigned char c : *s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  }
  return h;
}

void PutU64(std::string* out, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  out->append(buf, 8);
}

bool GetU64(const std::string& in, size_t* pos, uint64_t* v) {
  if (*pos + 8 > in.size()) return false;
  std::memcpy(v, in.data() + *pos, 8);
  *pos += 8;
  return true;
}

int64_t StepOf(const std::string& filename) {
  if (filename.rfind("ckpt-", 0) != 0 || filename.size() < 11 ||
      filename.substr(filename.size() - 5) != ".ckpt")
    return -1;
  int64_t step;
  if (!absl::SimpleAtoi(filename.substr(5, filename.size() - 10), &step)) return -1;
  return step;
}

}  // namespace

absl::Status WriteCheckpointFile(const std::string& path, const std::string& metadata_json,
                                 const ArchiveWriter& write) {
  std::ostringstream payload_stream;
  try {
    torch::serialize::OutputArchive archive;
    write(archive);
    archive.save_to(payload_stream);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot serialise checkpoint ", path, ": ", e.what()));
  }
  const std::string payload = payload_stream.str();
  std::string file(kMagic, kMagicLen);
  PutU64(&file, metadata_json.size());
  file += metadata_json;
  PutU64(&file, payload.size());
  file += payload;
  PutU64(&file, Fnv1a(metadata_json, payload));
  file.append(kTrailer, kTrailerLen);
  return WriteFileAtomically(path, file);
}

absl::StatusOr<LoadedCheckpoint> ReadCheckpointFile(const std::string& path) {
  auto data = ReadFile(path);
  if (!data.ok()) return data.status();
  auto damaged = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat("checkpoint ", path, " is damaged: ", why));
  };
  const std::string& d = *data;
  if (d.size() < kMagicLen || d.compare(0, kMagicLen, kMagic) != 0)
    return damaged("not an edgeloop checkpoint (bad header)");
  size_t pos = kMagicLen;
  uint64_t meta_len, payload_len, checksum;
  if (!GetU64(d, &pos, &meta_len) || pos + meta_len > d.size()) return damaged("truncated");
  std::string meta = d.substr(pos, meta_len);
  pos += meta_len;
  if (!GetU64(d, &pos, &payload_len) || pos + payload_len > d.size()) return damaged("truncated");
  std::string payload = d.substr(pos, payload_len);
  pos += payload_len;
  if (!GetU64(d, &pos, &checksum) || pos + kTrailerLen != d.size() ||
      d.compare(pos, kTrailerLen, kTrailer) != 0)
    return damaged("truncated");
  if (checksum != Fnv1a(meta, payload)) return damaged("checksum mismatch");
  LoadedCheckpoint out;
  out.path = path;
  out.step = StepOf(std::filesystem::path(path).filename().string());
  out.metadata_json = std::move(meta);
  out.archive = std::make_shared<torch::serialize::InputArchive>();
  try {
    std::istringstream in(payload);
    out.archive->load_from(in);
  } catch (const std::exception& e) {
    return damaged(absl::StrCat("archive unreadable: ", e.what()));
  }
  return out;
}

CheckpointDir::CheckpointDir(std::string dir, int keep) : dir_(std::move(dir)), keep_(keep) {}

std::string CheckpointDir::PathFor(int64_t step) const {
  return absl::StrFormat("%s/ckpt-%09d.ckpt", dir_, step);
}

std::vector<int64_t> CheckpointDir::Steps() const {
  std::vector<int64_t> steps;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    int64_t s = StepOf(e.path().filename().string());
    if (s >= 0) steps.push_back(s);
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

absl::Status CheckpointDir::Save(int64_t step, const std::string& metadata_json,
                                 const ArchiveWriter& write) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir_, ": ", ec.message()));
  if (auto s = WriteCheckpointFile(PathFor(step), metadata_json, write); !s.ok()) return s;
  // Only after the new file is durable do the oldest ones go.
  std::vector<int64_t> steps = Steps();
  for (size_t i = 0; keep_ > 0 && i + keep_ < steps.size(); ++i) {
    std::filesystem::remove(PathFor(steps[i]), ec);
  }
  return absl::OkStatus();
}

absl::StatusOr<LoadedCheckpoint> CheckpointDir::LoadLatest() const {
  std::vector<int64_t> steps = Steps();
  if (steps.empty()) return absl::NotFoundError(absl::StrCat("no checkpoint in ", dir_));
  std::vector<std::string> skipped;
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    auto loaded = ReadCheckpointFile(PathFor(*it));
    if (loaded.ok()) {
      loaded->skipped = std::move(skipped);
      return loaded;
    }
    skipped.push_back(std::string(loaded.status().message()));
  }
  return absl::DataLossError(absl::StrCat("every checkpoint in ", dir_, " is damaged; newest: ",
                                          skipped.front()));
}

}  // namespace edgeloop::train
