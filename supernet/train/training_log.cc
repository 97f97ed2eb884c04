#include "supernet/train/training_log.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/atomic_file.h"
#include "base/proto_json.h"
#include "google/protobuf/struct.pb.h"

namespace edgeloop::supernet::train {
namespace {

bool KeepLine(absl::string_view line, int64_t step) {
  google::protobuf::Struct record;
  if (!ProtoFromJson(line, "log.jsonl", &record).ok()) return false;
  auto it = record.fields().find("step");
  if (it == record.fields().end()) return true;
  return it->second.has_number_value() && it->second.number_value() <= static_cast<double>(step);
}

}  // namespace

absl::Status TrimTrainingLog(const std::string& path, int64_t step) {
  absl::StatusOr<std::string> log = ReadFile(path);
  if (!log.ok()) return absl::OkStatus();
  std::string kept;
  for (absl::string_view line : absl::StrSplit(*log, '\n', absl::SkipEmpty())) {
    if (KeepLine(line, step)) absl::StrAppend(&kept, line, "\n");
  }
  if (kept == *log) return absl::OkStatus();
  return WriteFileAtomically(path, kept);
}

}  // namespace edgeloop::supernet::train
