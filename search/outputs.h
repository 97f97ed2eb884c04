// The files a search leaves in SEARCH_DIR for people and scripts:
//   front.csv   one row per front member (by val MSE): key, verified, val MSE, RMSE in mm/s
//               and W, latency used, measured median/p90, predicted, params, FLOPs, chosen
//               flag, the architecture JSON;
//   front.json  the same members as objects, plus the chosen subnet, the baseline, the
//               strategy, device, batch size and verification status (a FrontRecord of
//               search/search_state.proto);
//   pareto.png  every scored candidate, the front, the baseline and the chosen subnet
//               (latency on a log axis), drawn by gnuplot.
#ifndef EDGELOOP_SEARCH_OUTPUTS_H_
#define EDGELOOP_SEARCH_OUTPUTS_H_

#include <string>

#include "absl/status/status.h"
#include "search/search.h"

namespace edgeloop::search {

struct OutputContext {
  std::string strategy;
  std::string device;
  int batch = 1;
  double max_latency_ms = 0;
};

absl::Status WriteFrontCsv(const SearchResult& result, const std::string& path);
absl::Status WriteFrontJson(const SearchResult& result, const OutputContext& context,
                            const std::string& path);
// Unavailable when gnuplot is missing or fails (the other outputs do not depend on it).
absl::Status PlotPareto(const SearchResult& result, const OutputContext& context,
                        const std::string& png_path);

}  // namespace edgeloop::search

#endif  // EDGELOOP_SEARCH_OUTPUTS_H_
