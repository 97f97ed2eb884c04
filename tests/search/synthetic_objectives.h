// Synthetic objectives for search tests: deterministic functions of the architecture that
// trade accuracy against latency like a real supernet does, plus a scriptable fake edge.
#ifndef EDGELOOP_TESTS_SEARCH_SYNTHETIC_OBJECTIVES_H_
#define EDGELOOP_TESTS_SEARCH_SYNTHETIC_OBJECTIVES_H_

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "arch/arch_config.h"
#include "arch/cost_model.h"
#include "base/hash.h"
#include "base/interrupt.h"
#include "search/objectives.h"

namespace edgeloop::search::testing {

// A value in [0, 1) fixed per (architecture, salt).
inline double Jitter(const ArchConfig& arch, const char* salt) {
  return static_cast<double>(Fnv1a64(salt, Fnv1a64(arch::CanonicalKey(arch))) >> 11) /
         9007199254740992.0;
}

// More FLOPs -> lower loss, with an architecture-specific spread so the front is not
// simply ordered by FLOPs.
inline double SyntheticMse(const ArchConfig& arch) {
  const double flops = static_cast<double>(arch::ComputeCost(arch).flops);
  return 1.0 / std::pow(flops, 0.25) * (0.8 + 0.4 * Jitter(arch, "mse"));
}

inline double TrueLatencyMs(const ArchConfig& arch) {
  const double flops = static_cast<double>(arch::ComputeCost(arch).flops);
  return flops * 1e-7 * (0.7 + 0.6 * Jitter(arch, "latency"));
}

class SyntheticAccuracy : public AccuracyEvaluator {
 public:
  // Cancels (as a SIGINT would) on the `cancel_at`-th call when > 0.
  explicit SyntheticAccuracy(int cancel_at = 0) : cancel_at_(cancel_at) {}
  absl::StatusOr<std::vector<AccuracyScore>> Evaluate(
      const std::vector<ArchConfig>& archs) override {
    if (++calls_ == cancel_at_) return absl::CancelledError("search interrupted");
    std::vector<AccuracyScore> out;
    for (const ArchConfig& a : archs) out.push_back({SyntheticMse(a), 1, 1});
    evaluated_ += static_cast<int>(archs.size());
    return out;
  }
  int evaluated() const { return evaluated_; }

 private:
  int cancel_at_;
  int calls_ = 0;
  int evaluated_ = 0;
};

// Predicts the true latency with a systematic +30% error that every measurement halves
// (a crude recalibration); measures the true latency when the edge is "up".
class FakeEdgeLatency : public LatencySource {
 public:
  // The edge answers nothing during the first `down_collects` rounds (a network outage),
  // then comes back; -1: it never does.
  explicit FakeEdgeLatency(bool has_edge, int down_collects = 0)
      : has_edge_(has_edge), down_collects_(down_collects) {}
  int measurements() const { return measurements_; }

  absl::StatusOr<std::vector<LatencyEstimate>> Predict(
      const std::vector<ArchConfig>& archs) override {
    std::vector<LatencyEstimate> out;
    for (const ArchConfig& a : archs) {
      out.push_back({TrueLatencyMs(a) * (1 + bias_) * (0.9 + 0.2 * Jitter(a, "noise")),
                     0.1 * Jitter(a, "std")});
    }
    return out;
  }
  bool HasEdge() const override { return has_edge_; }
  bool EdgeConnected() const override { return has_edge_ && Up(); }
  void RequestMeasurement(const ArchConfig& arch) override {
    const std::string key = arch::CanonicalKey(arch);
    for (const auto& [k, a] : queue_) {
      if (k == key) return;
    }
    queue_.emplace_back(key, arch);
  }
  std::vector<LiveMeasurement> Collect(double, std::vector<std::string>*) override {
    std::vector<LiveMeasurement> out;
    ++collects_;
    if (!Up()) return out;
    for (const auto& [key, arch] : queue_) {
      const double predicted = Predict({arch}).value()[0].ms;
      const double truth = TrueLatencyMs(arch);
      out.push_back({key, truth, truth * 1.1, predicted});
      bias_ *= 0.5;
      ++measurements_;
    }
    queue_.clear();
    return out;
  }
  int Pending() const override { return static_cast<int>(queue_.size()); }
  std::string Device() const override { return "fake-edge"; }
  absl::StatusOr<std::string> SaveState() const override { return absl::StrCat(bias_); }
  absl::Status RestoreState(const std::string& state) override {
    bias_ = std::stod(state);
    return absl::OkStatus();
  }

 private:
  bool Up() const { return down_collects_ >= 0 && collects_ > down_collects_; }

  bool has_edge_;
  int down_collects_;
  int collects_ = 0;
  double bias_ = 0.3;
  int measurements_ = 0;
  std::vector<std::pair<std::string, ArchConfig>> queue_;
};

}  // namespace edgeloop::search::testing

#endif  // EDGELOOP_TESTS_SEARCH_SYNTHETIC_OBJECTIVES_H_
