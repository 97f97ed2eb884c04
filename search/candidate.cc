#include "search/candidate.h"

#include "absl/strings/str_cat.h"
#include "arch/arch_config.h"
#include "arch/cost_model.h"
#include "base/json.h"

namespace edgeloop::search {
namespace {

std::string Number(double v) { return std::isnan(v) ? "null" : JsonNumberText(v); }

// NaN for null or absent.
absl::StatusOr<double> OptionalNumber(const google::protobuf::Struct& object, const char* key,
                                      const std::string& origin) {
  const google::protobuf::Value* v = JsonField(object, key);
  if (v == nullptr || v->kind_case() == google::protobuf::Value::kNullValue) return kNaN;
  return JsonNumber(object, key, origin);
}

}  // namespace

Candidate MakeCandidate(const ArchConfig& arch, int generation) {
  Candidate c;
  c.arch = arch;
  c.key = CanonicalKey(arch);
  const Cost cost = ComputeCost(arch);
  c.params = cost.params;
  c.flops = cost.flops;
  c.generation = generation;
  return c;
}

std::string CandidateToJson(const Candidate& c) {
  return absl::StrCat(
      "{\"key\":", JsonQuote(c.key), ",\"arch\":", ArchToJson(c.arch),
      ",\"params\":", c.params, ",\"flops\":", c.flops, ",\"generation\":", c.generation,
      ",\"val_mse\":", Number(c.val_mse), ",\"rmse_speed_mm_s\":", Number(c.rmse_speed_mm_s),
      ",\"rmse_power_w\":", Number(c.rmse_power_w), ",\"predicted_ms\":", Number(c.predicted_ms),
      ",\"predicted_log_std\":", Number(c.predicted_log_std),
      ",\"measured_ms\":", Number(c.measured_ms), ",\"measured_p90_ms\":", Number(c.measured_p90_ms),
      ",\"predicted_before_measurement_ms\":", Number(c.predicted_before_measurement_ms),
      ",\"verified\":", c.measured() ? "true" : "false", "}");
}

absl::StatusOr<Candidate> CandidateFromJson(const google::protobuf::Struct& object,
                                            const std::string& origin) {
  const google::protobuf::Value* arch_value = JsonField(object, "arch");
  if (arch_value == nullptr || !arch_value->has_struct_value()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": a candidate has no \"arch\" object"));
  }
  absl::StatusOr<ArchConfig> arch = ArchFromJson(JsonText(*arch_value));
  if (!arch.ok()) return absl::InvalidArgumentError(absl::StrCat(origin, ": ", arch.status().message()));
  absl::StatusOr<double> generation = JsonNumber(object, "generation", origin);
  if (!generation.ok()) return generation.status();
  Candidate c = MakeCandidate(*arch, static_cast<int>(*generation));
  struct Field {
    const char* name;
    double* value;
  };
  const Field fields[] = {{"val_mse", &c.val_mse},
                          {"rmse_speed_mm_s", &c.rmse_speed_mm_s},
                          {"rmse_power_w", &c.rmse_power_w},
                          {"predicted_ms", &c.predicted_ms},
                          {"predicted_log_std", &c.predicted_log_std},
                          {"measured_ms", &c.measured_ms},
                          {"measured_p90_ms", &c.measured_p90_ms},
                          {"predicted_before_measurement_ms", &c.predicted_before_measurement_ms}};
  for (const Field& f : fields) {
    absl::StatusOr<double> v = OptionalNumber(object, f.name, origin);
    if (!v.ok()) return v.status();
    *f.value = *v;
  }
  if (std::isnan(c.predicted_log_std)) c.predicted_log_std = 0;
  return c;
}

}  // namespace edgeloop::search
