#include "search/search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "arch/arch_config.h"
#include "base/interrupt.h"
#include "base/progress.h"
#include "base/proto_json.h"
#include "base/rng.h"
#include "search/pareto.h"
#include "search/search_state.h"
#include "search/search_state.pb.h"

namespace edgeloop::search {
namespace {

// Attempts at drawing an architecture not seen before, per wanted architecture.
constexpr int kNoveltyTries = 64;

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// The predictor's errors on new measurements, as relative errors (predicted - measured) /
// measured: their mean absolute value in percent, and the share within +-10%; NaN when none.
double MeanAbsolutePercent(const std::vector<double>& relative_errors) {
  if (relative_errors.empty()) return kNaN;
  double sum = 0;
  for (double e : relative_errors) sum += std::fabs(e);
  return 100 * sum / relative_errors.size();
}

double ShareWithin10(const std::vector<double>& relative_errors) {
  if (relative_errors.empty()) return kNaN;
  int hits = 0;
  for (double e : relative_errors) hits += std::fabs(e) <= 0.10;
  return static_cast<double>(hits) / relative_errors.size();
}

struct GenerationStats {
  double accuracy_s = 0, predict_s = 0, edge_s = 0;
  int new_candidates = 0;
  std::vector<double> new_relative_errors;  // (predicted - measured) / measured
  std::vector<std::string> edge_errors;
};

class Searcher {
 public:
  Searcher(const arch::Space& space, const SearchOptions& options, AccuracyEvaluator* accuracy,
           LatencySource* latency)
      : space_(space),
        options_(options),
        accuracy_(accuracy),
        latency_(latency),
        rng_(Rng::Derive(options.seed, 0x5ea4c4)) {}

  absl::StatusOr<SearchResult> Run();

 private:
  int Find(const std::string& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? -1 : it->second;
  }
  int Add(const ArchConfig& arch, int generation);
  bool Feasible(const Candidate& c) const { return !(c.latency_ms() > options_.max_latency_ms); }
  double WeightedScore(const Candidate& c) const {
    return c.val_mse + options_.latency_weight * c.latency_ms();
  }
  absl::Status Score(const std::vector<int>& indices, GenerationStats* stats);
  absl::Status RefreshPredictions(GenerationStats* stats);
  // Ranks (0 = best front) and crowding distances of `members`, position by position.
  void Rank(const std::vector<int>& members, std::vector<int>* rank,
            std::vector<double>* crowding) const;
  int Tournament(const std::vector<int>& rank, const std::vector<double>& crowding);
  // A new architecture near `arch`, or a uniform one; nullopt when none could be found.
  std::optional<ArchConfig> Novel(const std::optional<ArchConfig>& arch,
                                  const absl::flat_hash_set<std::string>& taken);
  absl::StatusOr<std::vector<int>> InitialPopulation();
  absl::StatusOr<std::vector<int>> Offspring(int generation);
  absl::Status WeightedGeneration(int generation, GenerationStats* stats);
  void Select(std::vector<int> pool);
  void EdgeRound(const std::vector<int>& wanted, GenerationStats* stats);
  std::vector<int> MeasurementPicks() const;
  std::vector<Point> Points(const std::vector<int>& members) const;
  std::vector<int> ArchiveFront() const;
  // Scores the baseline when it lies in the space (generation 0).
  absl::Status ScoreBaseline();
  // Population, reference point and ES parent from the scored initial members.
  void StartPopulation(const std::vector<int>& initial);
  // The generation's new archive members, scored; none when the space is exhausted (and
  // for the weighted strategy, whose (1+1)-ES moves its parent itself).
  absl::StatusOr<std::vector<int>> NewMembers(int generation, GenerationStats* stats);
  // One generation: new members, an edge round, selection, then its log line and the
  // saved state. `exhausted`: the space held no new architecture, nothing was done.
  absl::Status Generation(int generation, bool* exhausted);
  // The candidates the final verification measures next.
  std::vector<int> VerificationPicks() const;
  absl::Status Verify();
  SearchSettings Settings() const {
    return {options_.identity, StrategyName(options_.strategy), options_.seed};
  }
  absl::StatusOr<SearchState> Snapshot(int generation, bool finished) const;
  absl::Status SaveState(int generation, bool finished) const;
  // Continues a saved search: returns the last generation it finished.
  absl::StatusOr<int> Restore(bool* finished);
  GenerationLogRecord GenerationLog(int generation, const GenerationStats& stats,
                                    double seconds) const;
  SearchResult Finish(int generations_run, double seconds);

  const arch::Space& space_;
  const SearchOptions& options_;
  AccuracyEvaluator* accuracy_;
  LatencySource* latency_;
  Rng rng_;
  std::vector<Candidate> archive_;
  absl::flat_hash_map<std::string, int> index_;
  std::vector<int> population_;
  int es_parent_ = -1;
  Point reference_ = {0, 0};
  std::optional<Candidate> baseline_;
};

int Searcher::Add(const ArchConfig& arch, int generation) {
  Candidate c = MakeCandidate(arch, generation);
  if (int existing = Find(c.key); existing >= 0) return existing;
  index_[c.key] = static_cast<int>(archive_.size());
  archive_.push_back(std::move(c));
  return static_cast<int>(archive_.size()) - 1;
}

absl::Status Searcher::Score(const std::vector<int>& indices, GenerationStats* stats) {
  std::vector<ArchConfig> archs;
  std::vector<int> todo;
  for (int i : indices) {
    if (std::isnan(archive_[i].val_mse)) {
      archs.push_back(archive_[i].arch);
      todo.push_back(i);
    }
  }
  if (todo.empty()) return absl::OkStatus();
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<AccuracyScore>> scores = accuracy_->Evaluate(archs);
  if (!scores.ok()) return scores.status();
  stats->accuracy_s += Seconds(start);
  start = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<LatencyEstimate>> estimates = latency_->Predict(archs);
  if (!estimates.ok()) return estimates.status();
  stats->predict_s += Seconds(start);
  for (size_t k = 0; k < todo.size(); ++k) {
    Candidate& c = archive_[todo[k]];
    c.val_mse = (*scores)[k].mse;
    c.rmse_speed_mm_s = (*scores)[k].rmse_speed_mm_s;
    c.rmse_power_w = (*scores)[k].rmse_power_w;
    if (!c.measured()) {
      c.predicted_ms = (*estimates)[k].ms;
      c.predicted_log_std = (*estimates)[k].log_std;
    }
  }
  stats->new_candidates += static_cast<int>(todo.size());
  return absl::OkStatus();
}

absl::Status Searcher::RefreshPredictions(GenerationStats* stats) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<ArchConfig> archs;
  std::vector<Candidate*> targets;
  for (Candidate& c : archive_) {
    if (!std::isnan(c.val_mse)) {
      archs.push_back(c.arch);
      targets.push_back(&c);
    }
  }
  if (baseline_) {
    archs.push_back(baseline_->arch);
    targets.push_back(&*baseline_);
  }
  if (archs.empty()) return absl::OkStatus();
  absl::StatusOr<std::vector<LatencyEstimate>> estimates = latency_->Predict(archs);
  if (!estimates.ok()) return estimates.status();
  for (size_t k = 0; k < targets.size(); ++k) {
    targets[k]->predicted_ms = (*estimates)[k].ms;
    targets[k]->predicted_log_std = (*estimates)[k].log_std;
  }
  stats->predict_s += Seconds(start);
  return absl::OkStatus();
}

std::vector<Point> Searcher::Points(const std::vector<int>& members) const {
  std::vector<Point> points;
  points.reserve(members.size());
  for (int i : members) points.push_back(archive_[i].objectives());
  return points;
}

void Searcher::Rank(const std::vector<int>& members, std::vector<int>* rank,
                    std::vector<double>* crowding) const {
  rank->assign(members.size(), 0);
  crowding->assign(members.size(), 0.0);
  std::vector<int> ranked;  // positions ranked by non-domination
  std::vector<int> infeasible;
  for (size_t p = 0; p < members.size(); ++p) {
    if (options_.strategy == Strategy::kConstrained && !Feasible(archive_[members[p]])) {
      infeasible.push_back(static_cast<int>(p));
    } else {
      ranked.push_back(static_cast<int>(p));
    }
  }
  std::vector<Point> points;
  for (int p : ranked) points.push_back(archive_[members[p]].objectives());
  const auto fronts = NonDominatedFronts(points);
  for (size_t f = 0; f < fronts.size(); ++f) {
    const std::vector<double> distance = CrowdingDistance(points, fronts[f]);
    for (size_t k = 0; k < fronts[f].size(); ++k) {
      const int p = ranked[fronts[f][k]];
      (*rank)[p] = static_cast<int>(f);
      (*crowding)[p] = distance[k];
    }
  }
  // Deb's constraint domination: every feasible subnet beats every infeasible one, and
  // among infeasible ones the smaller excess latency wins.
  std::stable_sort(infeasible.begin(), infeasible.end(), [&](int a, int b) {
    return archive_[members[a]].latency_ms() < archive_[members[b]].latency_ms();
  });
  for (size_t k = 0; k < infeasible.size(); ++k) {
    (*rank)[infeasible[k]] = static_cast<int>(fronts.size() + k);
  }
}

int Searcher::Tournament(const std::vector<int>& rank, const std::vector<double>& crowding) {
  const int a = static_cast<int>(rng_.Uniform(population_.size()));
  const int b = static_cast<int>(rng_.Uniform(population_.size()));
  if (rank[a] != rank[b]) return rank[a] < rank[b] ? a : b;
  if (crowding[a] != crowding[b]) return crowding[a] > crowding[b] ? a : b;
  return std::min(a, b);
}

std::optional<ArchConfig> Searcher::Novel(const std::optional<ArchConfig>& arch,
                                          const absl::flat_hash_set<std::string>& taken) {
  for (int attempt = 0; attempt < 2 * kNoveltyTries; ++attempt) {
    // Near `arch` first; uniform draws when its neighbourhood is used up.
    ArchConfig candidate = (arch && attempt < kNoveltyTries)
                               ? space_.Mutate(*arch, options_.mutation_prob, &rng_)
                               : space_.Sample(&rng_);
    const std::string key = arch::CanonicalKey(candidate);
    if (Find(key) < 0 && !taken.contains(key)) return candidate;
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<int>> Searcher::InitialPopulation() {
  std::vector<int> members;
  absl::flat_hash_set<std::string> none;
  // The corners anchor both ends of the front from the start.
  for (const ArchConfig& corner : {space_.Min(), space_.Max()}) {
    if (static_cast<int>(members.size()) < options_.population) {
      members.push_back(Add(corner, 0));
    }
  }
  while (static_cast<int>(members.size()) < options_.population) {
    std::optional<ArchConfig> arch = Novel(std::nullopt, none);
    if (!arch) break;
    members.push_back(Add(*arch, 0));
  }
  return members;
}

absl::StatusOr<std::vector<int>> Searcher::Offspring(int generation) {
  std::vector<int> rank;
  std::vector<double> crowding;
  Rank(population_, &rank, &crowding);
  absl::flat_hash_set<std::string> taken;
  std::vector<ArchConfig> children;
  for (int attempt = 0; static_cast<int>(children.size()) < options_.population &&
                        attempt < kNoveltyTries * options_.population;
       ++attempt) {
    std::optional<ArchConfig> child;
    if (options_.strategy == Strategy::kRandom) {
      child = Novel(std::nullopt, taken);
      if (!child) break;
    } else {
      const ArchConfig& a = archive_[population_[Tournament(rank, crowding)]].arch;
      const ArchConfig& b = archive_[population_[Tournament(rank, crowding)]].arch;
      ArchConfig mixed =
          rng_.Bernoulli(options_.crossover_prob) ? space_.Crossover(a, b, &rng_) : a;
      ArchConfig mutated = space_.Mutate(mixed, options_.mutation_prob, &rng_);
      const std::string key = arch::CanonicalKey(mutated);
      if (Find(key) >= 0 || taken.contains(key)) continue;
      child = std::move(mutated);
    }
    taken.insert(arch::CanonicalKey(*child));
    children.push_back(std::move(*child));
  }
  // A crowded neighbourhood (small spaces late in a search): fill up with fresh draws.
  while (static_cast<int>(children.size()) < options_.population) {
    std::optional<ArchConfig> child = Novel(std::nullopt, taken);
    if (!child) break;
    taken.insert(arch::CanonicalKey(*child));
    children.push_back(std::move(*child));
  }
  std::vector<int> indices;
  for (const ArchConfig& arch : children) indices.push_back(Add(arch, generation));
  return indices;
}

absl::Status Searcher::WeightedGeneration(int generation, GenerationStats* stats) {
  absl::flat_hash_set<std::string> none;
  for (int i = 0; i < options_.population; ++i) {
    if (Interrupted()) return absl::CancelledError("search interrupted");
    std::optional<ArchConfig> child = Novel(archive_[es_parent_].arch, none);
    if (!child) break;
    const int index = Add(*child, generation);
    if (absl::Status s = Score({index}, stats); !s.ok()) return s;
    if (WeightedScore(archive_[index]) <= WeightedScore(archive_[es_parent_])) es_parent_ = index;
  }
  return absl::OkStatus();
}

void Searcher::Select(std::vector<int> pool) {
  std::vector<int> rank;
  std::vector<double> crowding;
  Rank(pool, &rank, &crowding);
  std::vector<int> order(pool.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (rank[a] != rank[b]) return rank[a] < rank[b];
    if (crowding[a] != crowding[b]) return crowding[a] > crowding[b];
    return pool[a] < pool[b];
  });
  population_.clear();
  for (size_t k = 0; k < order.size() && static_cast<int>(k) < options_.population; ++k) {
    population_.push_back(pool[order[k]]);
  }
  std::sort(population_.begin(), population_.end());
}

std::vector<int> Searcher::ArchiveFront() const {
  std::vector<int> scored;
  for (size_t i = 0; i < archive_.size(); ++i) {
    if (!std::isnan(archive_[i].val_mse)) scored.push_back(static_cast<int>(i));
  }
  std::vector<int> front;
  for (int k : ParetoFront(Points(scored))) front.push_back(scored[k]);
  return front;
}

std::vector<int> Searcher::MeasurementPicks() const {
  std::vector<int> scored;
  for (size_t i = 0; i < archive_.size(); ++i) {
    if (!std::isnan(archive_[i].val_mse)) scored.push_back(static_cast<int>(i));
  }
  std::vector<int> rank;
  std::vector<double> crowding;
  Rank(scored, &rank, &crowding);
  // Front members first (boundary and sparse regions first), then the current
  // population's most uncertain predictions.
  std::vector<int> front_positions;
  for (size_t p = 0; p < scored.size(); ++p) {
    if (rank[p] == 0 && !archive_[scored[p]].measured())
      front_positions.push_back(static_cast<int>(p));
  }
  std::stable_sort(front_positions.begin(), front_positions.end(),
                   [&](int a, int b) { return crowding[a] > crowding[b]; });
  std::vector<int> picks;
  for (int p : front_positions) picks.push_back(scored[p]);
  std::vector<int> uncertain;
  const std::vector<int>& pool =
      options_.strategy == Strategy::kWeighted ? std::vector<int>{es_parent_} : population_;
  for (int i : pool) {
    if (i >= 0 && !archive_[i].measured() &&
        std::find(picks.begin(), picks.end(), i) == picks.end()) {
      uncertain.push_back(i);
    }
  }
  std::stable_sort(uncertain.begin(), uncertain.end(), [&](int a, int b) {
    return archive_[a].predicted_log_std > archive_[b].predicted_log_std;
  });
  picks.insert(picks.end(), uncertain.begin(), uncertain.end());
  return picks;
}

void Searcher::EdgeRound(const std::vector<int>& wanted, GenerationStats* stats) {
  if (!latency_->HasEdge()) return;
  const auto start = std::chrono::steady_clock::now();
  // While the edge is away, keep a bounded backlog rather than queueing every generation.
  const int backlog_cap = 2 * std::max(1, options_.measure_per_generation);
  for (int i : wanted) {
    if (latency_->Pending() >= backlog_cap) break;
    latency_->RequestMeasurement(archive_[i].arch);
  }
  if (baseline_ && !baseline_->measured() && latency_->Pending() < backlog_cap + 1) {
    latency_->RequestMeasurement(baseline_->arch);
  }
  const double wait =
      latency_->EdgeConnected() ? options_.edge_wait_s : std::min(options_.edge_wait_s, 1.0);
  std::vector<LiveMeasurement> results = latency_->Collect(wait, &stats->edge_errors);
  for (const LiveMeasurement& m : results) {
    Candidate* c = nullptr;
    if (int i = Find(m.key); i >= 0)
      c = &archive_[i];
    else if (baseline_ && baseline_->key == m.key)
      c = &*baseline_;
    if (c == nullptr) continue;
    c->measured_ms = m.median_ms;
    c->measured_p90_ms = m.p90_ms;
    c->predicted_before_measurement_ms = m.predicted_before_ms;
    stats->new_relative_errors.push_back((m.predicted_before_ms - m.median_ms) / m.median_ms);
  }
  stats->edge_s += Seconds(start);
}

std::vector<int> Searcher::VerificationPicks() const {
  std::vector<int> wanted;
  if (options_.strategy == Strategy::kConstrained) {
    // The most accurate subnets predicted under the budget, down to the first one whose
    // measurement confirms it.
    std::vector<int> order;
    for (size_t i = 0; i < archive_.size(); ++i) {
      if (!std::isnan(archive_[i].val_mse) && Feasible(archive_[i]))
        order.push_back(static_cast<int>(i));
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return archive_[a].val_mse < archive_[b].val_mse; });
    for (int i : order) {
      if (archive_[i].measured()) break;
      wanted.push_back(i);
    }
  } else {
    for (int i : ArchiveFront()) {
      if (!archive_[i].measured()) wanted.push_back(i);
    }
  }
  return wanted;
}

absl::Status Searcher::Verify() {
  if (!latency_->HasEdge()) return absl::OkStatus();
  for (int round = 0; round < options_.verify_rounds; ++round) {
    if (Interrupted()) return absl::CancelledError("search interrupted");
    std::vector<int> wanted = VerificationPicks();
    const bool baseline_missing = baseline_ && !baseline_->measured();
    if (wanted.empty() && !baseline_missing) return absl::OkStatus();
    if (static_cast<int>(wanted.size()) > 2 * options_.measure_per_generation) {
      wanted.resize(2 * std::max(1, options_.measure_per_generation));
    }
    GenerationStats stats;
    EdgeRound(wanted, &stats);
    if (absl::Status s = RefreshPredictions(&stats); !s.ok()) return s;
    VerifyLogRecord line;
    line.set_phase("verify");
    line.set_round(round);
    line.set_measured_new(static_cast<int>(stats.new_relative_errors.size()));
    line.set_edge_connected(latency_->EdgeConnected());
    line.set_pending(latency_->Pending());
    *line.mutable_hypervolume() = NumberOrNull(Hypervolume(Points(ArchiveFront()), reference_));
    line.set_edge_s(stats.edge_s);
    AppendSearchLog(options_.out_dir, line).IgnoreError();
    if (stats.new_relative_errors.empty() && !latency_->EdgeConnected()) break;
  }
  return absl::OkStatus();
}

GenerationLogRecord Searcher::GenerationLog(int generation, const GenerationStats& stats,
                                            double seconds) const {
  const std::vector<int> front = ArchiveFront();
  double best_mse = kNaN, best_latency = kNaN;
  int measured = 0, scored = 0;
  for (const Candidate& c : archive_) {
    if (std::isnan(c.val_mse)) continue;
    ++scored;
    measured += c.measured();
    if (!(c.val_mse >= best_mse)) best_mse = c.val_mse;
    if (!(c.latency_ms() >= best_latency)) best_latency = c.latency_ms();
  }
  int front_measured = 0;
  for (int i : front) front_measured += archive_[i].measured();
  GenerationLogRecord r;
  r.set_generation(generation);
  r.set_strategy(StrategyName(options_.strategy));
  r.set_evaluated(scored);
  r.set_new_(stats.new_candidates);
  *r.mutable_hypervolume() = NumberOrNull(Hypervolume(Points(front), reference_));
  r.set_front_size(static_cast<int>(front.size()));
  r.set_front_measured(front_measured);
  *r.mutable_best_val_mse() = NumberOrNull(best_mse);
  *r.mutable_best_latency_ms() = NumberOrNull(best_latency);
  r.set_measured_total(measured);
  r.set_measured_new(static_cast<int>(stats.new_relative_errors.size()));
  *r.mutable_predictor_mape_new_pct() =
      NumberOrNull(MeanAbsolutePercent(stats.new_relative_errors));
  *r.mutable_predictor_within10_new() = NumberOrNull(ShareWithin10(stats.new_relative_errors));
  r.set_edge_errors(static_cast<int>(stats.edge_errors.size()));
  r.set_edge_connected(latency_->HasEdge() && latency_->EdgeConnected());
  r.set_pending(latency_->HasEdge() ? latency_->Pending() : 0);
  GenerationSeconds* time = r.mutable_time_s();
  time->set_accuracy(stats.accuracy_s);
  time->set_predict(stats.predict_s);
  time->set_edge(stats.edge_s);
  time->set_total(seconds);
  return r;
}

absl::StatusOr<SearchState> Searcher::Snapshot(int generation, bool finished) const {
  absl::StatusOr<std::string> latency_state = latency_->SaveState();
  if (!latency_state.ok()) return latency_state.status();
  SearchState state;
  state.settings = Settings();
  state.generation = generation;
  state.finished = finished;
  state.rng = rng_.State();
  state.reference_point = reference_;
  state.archive = archive_;
  for (int i : population_) state.population.push_back(archive_[i].key);
  state.es_parent = es_parent_ >= 0 ? archive_[es_parent_].key : "";
  state.baseline = baseline_;
  state.latency_state = *std::move(latency_state);
  return state;
}

absl::Status Searcher::SaveState(int generation, bool finished) const {
  absl::StatusOr<SearchState> state = Snapshot(generation, finished);
  if (!state.ok()) return state.status();
  return SaveSearchState(options_.out_dir, *state);
}

absl::StatusOr<int> Searcher::Restore(bool* finished) {
  absl::StatusOr<SearchState> state = ResumeSearchState(options_.out_dir, Settings());
  if (!state.ok()) return state.status();
  for (Candidate& c : state->archive) {
    index_[c.key] = static_cast<int>(archive_.size());
    archive_.push_back(std::move(c));
  }
  for (const std::string& key : state->population) population_.push_back(Find(key));
  rng_.SetState(state->rng);
  es_parent_ = Find(state->es_parent);
  reference_ = state->reference_point;
  baseline_ = std::move(state->baseline);
  if (absl::Status s = latency_->RestoreState(state->latency_state); !s.ok()) return s;
  *finished = state->finished;
  return state->generation;
}

SearchResult Searcher::Finish(int generations_run, double seconds) {
  SearchResult result;
  result.generations_run = generations_run;
  result.seconds = seconds;
  result.front = ArchiveFront();
  for (int i : result.front) result.verified = result.verified && archive_[i].measured();
  if (!latency_->HasEdge()) result.verified = false;
  auto better = [&](int a, int b) {  // for the chosen subnet
    if (options_.strategy == Strategy::kConstrained || options_.max_latency_ms > 0) {
      return archive_[a].val_mse < archive_[b].val_mse;
    }
    return WeightedScore(archive_[a]) < WeightedScore(archive_[b]);
  };
  const bool budget = options_.strategy == Strategy::kConstrained || options_.max_latency_ms > 0;
  for (size_t i = 0; i < archive_.size(); ++i) {
    const Candidate& c = archive_[i];
    if (std::isnan(c.val_mse)) continue;
    if (budget && !Feasible(c)) continue;
    // Prefer measured subnets: a prediction alone never becomes the chosen one when a
    // measured alternative exists.
    if (result.chosen >= 0 && archive_[result.chosen].measured() != c.measured()) {
      if (c.measured()) result.chosen = static_cast<int>(i);
      continue;
    }
    if (result.chosen < 0 || better(static_cast<int>(i), result.chosen)) {
      result.chosen = static_cast<int>(i);
    }
  }
  if (result.chosen < 0) {
    result.feasible = false;
    for (size_t i = 0; i < archive_.size(); ++i) {
      if (std::isnan(archive_[i].val_mse)) continue;
      if (result.chosen < 0 || archive_[i].latency_ms() < archive_[result.chosen].latency_ms()) {
        result.chosen = static_cast<int>(i);
      }
    }
    if (result.chosen >= 0) {
      result.message =
          absl::StrFormat("no subnet found under %.4g ms; the fastest found is %s at %.4g ms (%s)",
                          options_.max_latency_ms, archive_[result.chosen].key,
                          archive_[result.chosen].latency_ms(),
                          archive_[result.chosen].measured() ? "measured" : "predicted");
    }
  }
  if (!result.verified && latency_->HasEdge()) {
    int unverified = 0;
    for (int i : result.front) unverified += !archive_[i].measured();
    absl::StrAppend(&result.message, result.message.empty() ? "" : "; ", unverified,
                    " front member(s) carry predicted latencies only (edge unreachable)");
  }
  result.archive = archive_;
  result.baseline = baseline_;
  return result;
}

absl::Status Searcher::ScoreBaseline() {
  if (!options_.baseline || !space_.Contains(*options_.baseline).ok()) return absl::OkStatus();
  baseline_ = MakeCandidate(*options_.baseline, 0);
  absl::StatusOr<std::vector<AccuracyScore>> score = accuracy_->Evaluate({baseline_->arch});
  if (!score.ok()) return score.status();
  baseline_->val_mse = (*score)[0].mse;
  baseline_->rmse_speed_mm_s = (*score)[0].rmse_speed_mm_s;
  baseline_->rmse_power_w = (*score)[0].rmse_power_w;
  return absl::OkStatus();
}

void Searcher::StartPopulation(const std::vector<int>& initial) {
  population_ = initial;
  std::vector<Candidate> members;
  for (int i : initial) members.push_back(archive_[i]);
  reference_ = ReferencePoint(members);
  if (options_.strategy != Strategy::kWeighted) return;
  for (int i : initial) {
    if (es_parent_ < 0 || WeightedScore(archive_[i]) < WeightedScore(archive_[es_parent_])) {
      es_parent_ = i;
    }
  }
}

absl::StatusOr<std::vector<int>> Searcher::NewMembers(int generation, GenerationStats* stats) {
  std::vector<int> fresh;
  if (generation == 0) {
    absl::StatusOr<std::vector<int>> initial = InitialPopulation();
    if (!initial.ok()) return initial.status();
    fresh = *std::move(initial);
    if (absl::Status s = ScoreBaseline(); !s.ok()) return s;
  } else if (options_.strategy != Strategy::kWeighted) {
    absl::StatusOr<std::vector<int>> children = Offspring(generation);
    if (!children.ok()) return children.status();
    fresh = *std::move(children);
    if (fresh.empty()) return fresh;  // the space is exhausted
  }
  if (options_.strategy == Strategy::kWeighted && generation > 0) {
    if (absl::Status s = WeightedGeneration(generation, stats); !s.ok()) return s;
  } else if (absl::Status s = Score(fresh, stats); !s.ok()) {
    return s;
  }
  return fresh;
}

absl::Status Searcher::Generation(int generation, bool* exhausted) {
  const auto start = std::chrono::steady_clock::now();
  GenerationStats stats;
  absl::StatusOr<std::vector<int>> fresh = NewMembers(generation, &stats);
  if (!fresh.ok()) return fresh.status();
  if (generation > 0 && options_.strategy != Strategy::kWeighted && fresh->empty()) {
    *exhausted = true;
    return absl::OkStatus();
  }
  if (generation == 0) StartPopulation(*fresh);
  std::vector<int> picks = MeasurementPicks();
  if (static_cast<int>(picks.size()) > options_.measure_per_generation) {
    picks.resize(std::max(0, options_.measure_per_generation));
  }
  EdgeRound(picks, &stats);
  if (!stats.new_relative_errors.empty()) {
    if (absl::Status s = RefreshPredictions(&stats); !s.ok()) return s;
  }
  if (generation > 0 &&
      (options_.strategy == Strategy::kPareto || options_.strategy == Strategy::kConstrained)) {
    std::vector<int> pool = population_;
    pool.insert(pool.end(), fresh->begin(), fresh->end());
    Select(std::move(pool));
  } else if (generation > 0) {
    population_ = *fresh;  // random: the latest draws; weighted: unused
  }
  const GenerationLogRecord line = GenerationLog(generation, stats, Seconds(start));
  if (absl::Status s = AppendSearchLog(options_.out_dir, line); !s.ok()) return s;
  return SaveState(generation, false);
}

absl::StatusOr<SearchResult> Searcher::Run() {
  const auto start = std::chrono::steady_clock::now();
  int first_generation = 0;
  bool finished = false;
  if (options_.resume && HasSearchState(options_.out_dir)) {
    absl::StatusOr<int> done = Restore(&finished);
    if (!done.ok()) return done.status();
    first_generation = *done + 1;
  } else {
    RemoveSearchLog(options_.out_dir);
  }
  Progress progress("search", options_.generations + 1, "gen", 0.0);
  for (int generation = first_generation; generation <= options_.generations && !finished;
       ++generation) {
    if (Interrupted()) return absl::CancelledError("search interrupted");
    bool exhausted = false;
    if (absl::Status s = Generation(generation, &exhausted); !s.ok()) return s;
    if (exhausted) break;
    if (options_.progress) {
      const std::vector<int> front = ArchiveFront();
      progress.Update(generation + 1, absl::StrFormat("front %d  hv %.4g  evaluated %d",
                                                      static_cast<int>(front.size()),
                                                      Hypervolume(Points(front), reference_),
                                                      static_cast<int>(archive_.size())));
    }
  }
  if (!finished) {
    if (absl::Status s = Verify(); !s.ok()) return s;
    if (absl::Status s = SaveState(options_.generations, true); !s.ok()) return s;
  }
  if (options_.progress) progress.Finish();
  return Finish(options_.generations, Seconds(start));
}

}  // namespace

absl::StatusOr<Strategy> ParseStrategy(const std::string& name) {
  if (name == "pareto") return Strategy::kPareto;
  if (name == "constrained") return Strategy::kConstrained;
  if (name == "weighted") return Strategy::kWeighted;
  if (name == "random") return Strategy::kRandom;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown objective \"", name, "\"; expected pareto, constrained, weighted or random"));
}

const char* StrategyName(Strategy strategy) {
  switch (strategy) {
    case Strategy::kPareto:
      return "pareto";
    case Strategy::kConstrained:
      return "constrained";
    case Strategy::kWeighted:
      return "weighted";
    case Strategy::kRandom:
      return "random";
  }
  return "?";
}

Point ReferencePoint(const std::vector<Candidate>& initial) {
  Point worst = {0, 0};
  for (const Candidate& c : initial) {
    if (std::isfinite(c.val_mse)) worst[0] = std::max(worst[0], c.val_mse);
    if (std::isfinite(c.latency_ms())) worst[1] = std::max(worst[1], c.latency_ms());
  }
  return {worst[0] * 1.1, worst[1] * 1.1};
}

absl::StatusOr<SearchResult> RunSearch(const arch::Space& space, const SearchOptions& options,
                                       AccuracyEvaluator* accuracy, LatencySource* latency) {
  if (options.population < 2) return absl::InvalidArgumentError("--population must be >= 2");
  if (options.generations < 0) return absl::InvalidArgumentError("--generations must be >= 0");
  if (options.mutation_prob < 0 || options.mutation_prob > 1 || options.crossover_prob < 0 ||
      options.crossover_prob > 1) {
    return absl::InvalidArgumentError("--mutation and --crossover must lie in [0, 1]");
  }
  if (options.strategy == Strategy::kConstrained && !(options.max_latency_ms > 0)) {
    return absl::InvalidArgumentError("objective constrained needs --max-latency-ms > 0");
  }
  if (options.out_dir.empty()) return absl::InvalidArgumentError("no output directory");
  Searcher searcher(space, options, accuracy, latency);
  return searcher.Run();
}

}  // namespace edgeloop::search
