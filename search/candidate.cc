#include "search/candidate.h"

#include "absl/strings/str_cat.h"
#include "arch/arch_config.h"
#include "arch/cost_model.h"
#include "base/proto_json.h"

namespace edgeloop::search {

Candidate MakeCandidate(const ArchConfig& arch, int generation) {
  Candidate c;
  c.arch = arch;
  c.key = arch::CanonicalKey(arch);
  const arch::Cost cost = arch::ComputeCost(arch);
  c.params = cost.params;
  c.flops = cost.flops;
  c.generation = generation;
  return c;
}

CandidateRecord CandidateToRecord(const Candidate& c) {
  CandidateRecord r;
  r.set_key(c.key);
  *r.mutable_arch() = c.arch;
  r.set_params(static_cast<double>(c.params));
  r.set_flops(static_cast<double>(c.flops));
  r.set_generation(c.generation);
  *r.mutable_val_mse() = NumberOrNull(c.val_mse);
  *r.mutable_rmse_speed_mm_s() = NumberOrNull(c.rmse_speed_mm_s);
  *r.mutable_rmse_power_w() = NumberOrNull(c.rmse_power_w);
  *r.mutable_predicted_ms() = NumberOrNull(c.predicted_ms);
  *r.mutable_predicted_log_std() = NumberOrNull(c.predicted_log_std);
  *r.mutable_measured_ms() = NumberOrNull(c.measured_ms);
  *r.mutable_measured_p90_ms() = NumberOrNull(c.measured_p90_ms);
  *r.mutable_predicted_before_measurement_ms() = NumberOrNull(c.predicted_before_measurement_ms);
  r.set_verified(c.measured());
  return r;
}

absl::StatusOr<Candidate> CandidateFromRecord(const CandidateRecord& record,
                                              const std::string& origin) {
  if (!record.has_arch()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": a candidate has no \"arch\" object"));
  }
  if (absl::Status s = arch::ValidateStructure(record.arch()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": ", s.message()));
  }
  Candidate c = MakeCandidate(record.arch(), record.generation());
  c.val_mse = NumberOrNaN(record.val_mse());
  c.rmse_speed_mm_s = NumberOrNaN(record.rmse_speed_mm_s());
  c.rmse_power_w = NumberOrNaN(record.rmse_power_w());
  c.predicted_ms = NumberOrNaN(record.predicted_ms());
  c.predicted_log_std = NumberOrNaN(record.predicted_log_std());
  if (std::isnan(c.predicted_log_std)) c.predicted_log_std = 0;
  c.measured_ms = NumberOrNaN(record.measured_ms());
  c.measured_p90_ms = NumberOrNaN(record.measured_p90_ms());
  c.predicted_before_measurement_ms = NumberOrNaN(record.predicted_before_measurement_ms());
  return c;
}

absl::StatusOr<std::string> CandidateToJson(const Candidate& c) {
  return ProtoToJson(CandidateToRecord(c));
}

}  // namespace edgeloop::search
