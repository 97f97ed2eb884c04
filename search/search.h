// Multi-objective subnet search: (inherited-weight val MSE, latency) over a space.
//
// Strategies (SearchOptions::strategy):
//   pareto      NSGA-II: binary tournaments on (front rank, crowding), uniform crossover,
//               per-gene mutation, elitist selection from parents + offspring;
//   constrained NSGA-II under Deb's constraint domination (feasible before infeasible,
//               infeasible by excess latency): the most accurate subnet under max_latency_ms;
//   weighted    the reference's score val_mse + latency_ms / 16, by a (1+1) evolution strategy;
//   random      uniform samples: the baseline every strategy must beat.
// All get the same budget: population * (generations + 1) distinct architectures.
//
// Edge in the loop: every candidate gets a predicted latency; after each generation the
// most valuable unmeasured candidates (front members by crowding, then the most uncertain)
// are measured live, the predictor recalibrates, and every prediction is refreshed. A
// final verification round measures the unmeasured members of the front until the front
// holds measured latencies only (or the edge stays unreachable: those members are then
// marked unverified). Without an edge the search runs on predictions alone.
//
// State is saved atomically after every generation (SEARCH_DIR/state.json, with the log
// SEARCH_DIR/log.jsonl: search/search_state.h); with `resume` the search continues from it
// and, given the same measurements, ends with the same front as an uninterrupted run.
// Everything is deterministic under `seed`.
#ifndef EDGELOOP_SEARCH_SEARCH_H_
#define EDGELOOP_SEARCH_SEARCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "arch/space.h"
#include "search/candidate.h"
#include "search/objectives.h"

namespace edgeloop::search {

enum class Strategy { kPareto, kConstrained, kWeighted, kRandom };
absl::StatusOr<Strategy> ParseStrategy(const std::string& name);
const char* StrategyName(Strategy strategy);

struct SearchOptions {
  Strategy strategy = Strategy::kPareto;
  double max_latency_ms = 0;  // constrained: the budget; pareto: > 0 picks the chosen model
  int population = 24;
  int generations = 8;
  double crossover_prob = 0.9;
  double mutation_prob = 0.2;  // per gene
  uint64_t seed = 0;
  double latency_weight = 1.0 / 16;  // weighted: val_mse + latency_weight * latency_ms
  int measure_per_generation = 4;
  double edge_wait_s = 120;  // per generation, for the measurements it requested
  int verify_rounds = 6;
  std::string out_dir;  // state.json and log.jsonl go here
  bool resume = false;
  bool progress = true;
  std::optional<ArchConfig> baseline;  // scored and measured for comparison when set
  std::string identity;  // what the state must match on resume (run, data, predictor...)
};

struct SearchResult {
  std::vector<Candidate> archive;  // every architecture scored, in the order first seen
  std::vector<int> front;          // archive indices of the final front, by val_mse
  int chosen = -1;                 // archive index of the chosen subnet
  bool feasible = true;            // constrained: the chosen subnet meets the budget
  bool verified = true;            // every front member's latency was measured
  std::optional<Candidate> baseline;
  std::string message;  // explanation when not feasible / not verified
  int generations_run = 0;
  double seconds = 0;
};

absl::StatusOr<SearchResult> RunSearch(const arch::Space& space, const SearchOptions& options,
                                       AccuracyEvaluator* accuracy, LatencySource* latency);

// The reference point of hypervolumes reported for a search: 10% beyond the worst val MSE
// and latency of its initial population.
Point ReferencePoint(const std::vector<Candidate>& initial);

}  // namespace edgeloop::search

#endif  // EDGELOOP_SEARCH_SEARCH_H_
