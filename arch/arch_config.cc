#include "arch/arch_config.h"

#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/json_limits.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace edgeloop::arch {
namespace {

using google::protobuf::Value;

std::string Describe(const Value& v) {
  switch (v.kind_case()) {
    case Value::kNullValue:
      return "null";
    case Value::kNumberValue:
      return absl::StrFormat("%g", v.number_value());
    case Value::kStringValue:
      return absl::StrCat("\"", v.string_value(), "\"");
    case Value::kBoolValue:
      return v.bool_value() ? "true" : "false";
    case Value::kStructValue:
      return "an object";
    case Value::kListValue: {
      std::vector<std::string> parts;
      for (const auto& e : v.list_value().values()) parts.push_back(Describe(e));
      return absl::StrCat("[", absl::StrJoin(parts, ","), "]");
    }
    default:
      return "nothing";
  }
}

absl::Status FieldError(absl::string_view field, const Value& v, absl::string_view allowed) {
  return absl::InvalidArgumentError(
      absl::StrCat("arch field '", field, "': got ", Describe(v), ", expected ", allowed));
}

absl::StatusOr<int32_t> ToInt(absl::string_view field, const Value& v) {
  if (v.kind_case() != Value::kNumberValue || std::floor(v.number_value()) != v.number_value() ||
      std::fabs(v.number_value()) > 1e9) {
    return FieldError(field, v, "an integer");
  }
  return static_cast<int32_t>(v.number_value());
}

absl::StatusOr<std::vector<int32_t>> ToIntList(absl::string_view field, const Value& v, size_t n) {
  if (v.kind_case() != Value::kListValue || v.list_value().values_size() != static_cast<int>(n)) {
    return FieldError(field, v, absl::StrCat("a list of ", n, " integers"));
  }
  std::vector<int32_t> out;
  for (const auto& e : v.list_value().values()) {
    auto i = ToInt(field, e);
    if (!i.ok()) return FieldError(field, v, absl::StrCat("a list of ", n, " integers"));
    out.push_back(*i);
  }
  return out;
}

template <typename Repeated>
void Assign(Repeated* dst, const std::vector<int32_t>& src) {
  dst->Clear();
  for (int32_t x : src) dst->Add(x);
}

std::string IntList(const google::protobuf::RepeatedField<int32_t>& v, absl::string_view sep) {
  return absl::StrJoin(v, sep);
}

std::string FormatRatio(double r) { return absl::StrFormat("%.10g", r); }

}  // namespace

int64_t MlpHidden(const ArchConfig& arch, int stage) {
  // The reference computes int(dim * mlp_ratio); a tiny epsilon keeps e.g. 3 * 1.1 exact.
  return static_cast<int64_t>(
      std::floor(static_cast<double>(StageWidth(arch, stage)) * arch.mlp_ratio() + 1e-9));
}

absl::StatusOr<ArchConfig> ArchFromJson(absl::string_view json) {
  if (absl::Status s = CheckJsonLimits(json, "arch JSON"); !s.ok()) return s;
  Value root;
  google::protobuf::util::JsonParseOptions opts;
  auto st = google::protobuf::util::JsonStringToMessage(std::string(json), &root, opts);
  if (!st.ok()) {
    // The parser's message may carry a caret diagram on further lines; keep the first.
    std::string msg(st.message().data(), st.message().size());
    msg = msg.substr(0, msg.find('\n'));
    return absl::InvalidArgumentError(absl::StrCat("arch JSON is malformed: ", msg));
  }
  if (root.kind_case() != Value::kStructValue) {
    return absl::InvalidArgumentError("arch JSON must be an object");
  }
  static const std::set<std::string> kIgnored = {
      "name", "lr", "learning_rate", "step_size", "gamma", "batch_size", "epochs"};
  ArchConfig arch;
  std::set<std::string> seen;
  for (const auto& [key, v] : root.struct_value().fields()) {
    seen.insert(key);
    if (key == "patch_size" || key == "window_size") {
      auto l = ToIntList(key, v, 3);
      if (!l.ok()) return l.status();
      Assign(key == "patch_size" ? arch.mutable_patch_size() : arch.mutable_window_size(), *l);
    } else if (key == "depths" || key == "num_heads") {
      auto l = ToIntList(key, v, kNumStages);
      if (!l.ok()) return l.status();
      Assign(key == "depths" ? arch.mutable_depths() : arch.mutable_num_heads(), *l);
    } else if (key == "embed_dim" || key == "resolution" || key == "frames") {
      auto i = ToInt(key, v);
      if (!i.ok()) return i.status();
      if (key == "embed_dim") arch.set_embed_dim(*i);
      if (key == "resolution") arch.set_resolution(*i);
      if (key == "frames") arch.set_frames(*i);
    } else if (key == "mlp_ratio") {
      if (v.kind_case() != Value::kNumberValue) return FieldError(key, v, "a number");
      arch.set_mlp_ratio(v.number_value());
    } else if (key == "in_chans") {
      auto i = ToInt(key, v);
      if (!i.ok() || *i != kInChans) return FieldError(key, v, "1 (grey video)");
    } else if (key == "num_classes") {
      auto i = ToInt(key, v);
      if (!i.ok() || *i != kHeadClasses) return FieldError(key, v, "400 (the reference head)");
    } else if (kIgnored.count(key) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "arch JSON has unknown field '", key,
          "'; allowed: patch_size, embed_dim, depths, num_heads, window_size, mlp_ratio, "
          "resolution, frames (and the reference's name, in_chans, num_classes, lr, "
          "learning_rate, step_size, gamma, batch_size, epochs)"));
    }
  }
  // The reference's JSON predates our resolution/frames; default them to its input
  // [1, 16, 224, 224] and the window to its fixed (8, 7, 7).
  if (!seen.count("resolution")) arch.set_resolution(224);
  if (!seen.count("frames")) arch.set_frames(16);
  if (!seen.count("window_size")) Assign(arch.mutable_window_size(), {8, 7, 7});
  for (const char* required : {"patch_size", "embed_dim", "depths", "num_heads", "mlp_ratio"}) {
    if (!seen.count(required)) {
      return absl::InvalidArgumentError(
          absl::StrCat("arch JSON lacks required field '", required, "'"));
    }
  }
  if (auto s = ValidateStructure(arch); !s.ok()) return s;
  return arch;
}

std::string ArchToJson(const ArchConfig& a) {
  return absl::StrCat("{\"patch_size\":[", IntList(a.patch_size(), ","),
                      "],\"embed_dim\":", a.embed_dim(), ",\"depths\":[", IntList(a.depths(), ","),
                      "],\"num_heads\":[", IntList(a.num_heads(), ","), "],\"window_size\":[",
                      IntList(a.window_size(), ","), "],\"mlp_ratio\":", FormatRatio(a.mlp_ratio()),
                      ",\"resolution\":", a.resolution(), ",\"frames\":", a.frames(), "}");
}

std::string CanonicalKey(const ArchConfig& a) {
  return absl::StrCat("p", IntList(a.patch_size(), "."), "-e", a.embed_dim(), "-d",
                      IntList(a.depths(), "."), "-h", IntList(a.num_heads(), "."), "-w",
                      IntList(a.window_size(), "."), "-m", FormatRatio(a.mlp_ratio()), "-r",
                      a.resolution(), "-f", a.frames());
}

bool ArchEqual(const ArchConfig& a, const ArchConfig& b) {
  return CanonicalKey(a) == CanonicalKey(b);
}

absl::Status ValidateStructure(const ArchConfig& a) {
  auto err = [](absl::string_view field, const std::string& value, absl::string_view allowed) {
    return absl::InvalidArgumentError(
        absl::StrCat("arch field '", field, "': got ", value, ", expected ", allowed));
  };
  auto list = [](const google::protobuf::RepeatedField<int32_t>& v) {
    return absl::StrCat("[", absl::StrJoin(v, ","), "]");
  };
  if (a.patch_size_size() != 3) return err("patch_size", list(a.patch_size()), "3 values (T,H,W)");
  for (int p : a.patch_size())
    if (p < 1 || p > 64) return err("patch_size", list(a.patch_size()), "values in [1, 64]");
  if (a.window_size_size() != 3)
    return err("window_size", list(a.window_size()), "3 values (T,H,W)");
  for (int w : a.window_size())
    if (w < 1 || w > 64) return err("window_size", list(a.window_size()), "values in [1, 64]");
  if (a.embed_dim() < 1 || a.embed_dim() > 4096)
    return err("embed_dim", absl::StrCat(a.embed_dim()), "an integer in [1, 4096]");
  if (a.depths_size() != kNumStages)
    return err("depths", list(a.depths()), "4 values, one per stage");
  for (int d : a.depths())
    if (d < 1 || d > 64) return err("depths", list(a.depths()), "values in [1, 64]");
  if (a.num_heads_size() != kNumStages)
    return err("num_heads", list(a.num_heads()), "4 values, one per stage");
  for (int s = 0; s < kNumStages; ++s) {
    int h = a.num_heads(s);
    int64_t width = StageWidth(a, s);
    if (h < 1 || width % h != 0) {
      return err(absl::StrCat("num_heads[", s, "]"), absl::StrCat(h),
                 absl::StrCat("a positive divisor of the stage width ", width, " (embed_dim ",
                              a.embed_dim(), " x ", (1 << s), ")"));
    }
  }
  if (!(a.mlp_ratio() > 0) || a.mlp_ratio() > 64)
    return err("mlp_ratio", FormatRatio(a.mlp_ratio()), "a number in (0, 64]");
  for (int s = 0; s < kNumStages; ++s) {
    if (MlpHidden(a, s) < 1)
      return err("mlp_ratio", FormatRatio(a.mlp_ratio()),
                 absl::StrCat("at least 1 hidden unit in stage ", s));
  }
  if (a.resolution() < a.patch_size(1) || a.resolution() < a.patch_size(2) ||
      a.resolution() > 4096) {
    return err("resolution", absl::StrCat(a.resolution()),
               "an integer in [max(patch H, patch W), 4096]");
  }
  if (a.frames() < 1 || a.frames() > 4096)
    return err("frames", absl::StrCat(a.frames()), "an integer in [1, 4096]");
  return absl::OkStatus();
}

ArchConfig BaselineArch() {
  ArchConfig a;
  for (int v : {2, 4, 4}) a.add_patch_size(v);
  a.set_embed_dim(96);
  for (int v : {2, 2, 6, 2}) a.add_depths(v);
  for (int v : {3, 6, 12, 24}) a.add_num_heads(v);
  for (int v : {8, 7, 7}) a.add_window_size(v);
  a.set_mlp_ratio(4);
  a.set_resolution(224);
  a.set_frames(16);
  return a;
}

}  // namespace edgeloop::arch
