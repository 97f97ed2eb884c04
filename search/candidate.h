// One architecture the search has looked at, with everything known about it.
//
// Accuracy is the inherited-weight validation loss (NaN until evaluated); latency is the
// predictor's estimate at the search's batch size, replaced by the edge's measurement once
// one arrives (`measured_ms`, NaN until then). The search ranks candidates by
// (val_mse, latency_ms()), so a measurement changes a candidate's standing at once.
#ifndef EDGELOOP_SEARCH_CANDIDATE_H_
#define EDGELOOP_SEARCH_CANDIDATE_H_

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/statusor.h"
#include "proto/arch.pb.h"
#include "search/pareto.h"
#include "search/search_state.pb.h"

namespace edgeloop::search {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Candidate {
  ArchConfig arch;
  std::string key;  // CanonicalKey(arch)
  int64_t params = 0;
  int64_t flops = 0;   // multiply-accumulates per sample
  int generation = 0;  // first seen in this generation
  double val_mse = kNaN;
  double rmse_speed_mm_s = kNaN;
  double rmse_power_w = kNaN;
  double predicted_ms = kNaN;    // latest prediction (recalibrated model)
  double predicted_log_std = 0;  // ensemble spread, log space
  double measured_ms = kNaN;     // median measured on the edge
  double measured_p90_ms = kNaN;
  double predicted_before_measurement_ms = kNaN;  // the prediction the measurement checked

  bool measured() const { return !std::isnan(measured_ms); }
  double latency_ms() const { return measured() ? measured_ms : predicted_ms; }
  Point objectives() const { return {val_mse, latency_ms()}; }
};

// Builds a candidate of `arch` with key, params and FLOPs filled in.
Candidate MakeCandidate(const ArchConfig& arch, int generation);

// The candidate as a record (search_state.proto) and back. From a record, key, params and
// FLOPs are recomputed from the architecture, which must be well formed; `origin` names
// the record in errors.
CandidateRecord CandidateToRecord(const Candidate& c);
absl::StatusOr<Candidate> CandidateFromRecord(const CandidateRecord& record,
                                              const std::string& origin);

// The record as one line of JSON (search/json_record.h): NaN as null, the arch as an object.
absl::StatusOr<std::string> CandidateToJson(const Candidate& c);

}  // namespace edgeloop::search

#endif  // EDGELOOP_SEARCH_CANDIDATE_H_
