// A whole search as users run it: open a run's supernet, connect the latency source (model,
// store, edge fleet), score subnets on validation data, search, then write front.csv,
// front.json, pareto.png and export the chosen subnet to chosen/. `edgeloop search` and
// `edgeloop pipeline` are thin over it.
#ifndef EDGELOOP_SEARCH_SEARCH_JOB_H_
#define EDGELOOP_SEARCH_SEARCH_JOB_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "search/predictor_latency.h"
#include "search/search.h"
#include "search/supernet_accuracy.h"

namespace edgeloop::search {

struct SearchJobConfig {
  std::string run_dir;  // trained supernet
  std::string out_dir;  // SEARCH_DIR (created)
  SupernetAccuracyOptions accuracy;
  PredictorLatencyOptions latency;
  SearchOptions search;  // out_dir, identity and baseline are filled in here
  int threads = 2;       // torch intra-op threads
  bool export_chosen = true;
  bool single_process = false;  // ignore a multi-process launch (score in this process)
  // Told each warning as it arises (default: printed to stderr).
  std::function<void(const std::string&)> warn;
};

struct SearchJobResult {
  bool served = false;  // ranks > 0 of a multi-process launch: only scored
  SearchResult result;
  std::string device;                 // the latency source's device fingerprint
  std::vector<std::string> warnings;  // device mismatch, edge unreachable, plot failure
};

// Cancelled when interrupted (state of the last finished generation kept); AlreadyExists
// when out_dir holds a search and resume is off. Under a multi-process launch (torchrun-style
// or Slurm variables) rank 0 searches and every rank scores a share of each generation
// (search/distributed_accuracy.h); the other ranks return `served`.
absl::StatusOr<SearchJobResult> RunSearchJob(const SearchJobConfig& config);

}  // namespace edgeloop::search

#endif  // EDGELOOP_SEARCH_SEARCH_JOB_H_
