// Inherited-weight accuracy of subnets: the AccuracyEvaluator of a trained supernet.
//
// The validation subset (the first `samples` of the split in its fixed order, evaluation
// transform) is read once per input shape (frames, resolution) and kept in memory, so
// scoring a candidate costs one extraction and its forward passes, no I/O. Shapes are
// evicted least recently used beyond `cache_bytes`. Within a call, candidates are scored
// grouped by input shape. Scores equal `edgeloop eval` on the same samples.
#ifndef EDGELOOP_SEARCH_SUPERNET_ACCURACY_H_
#define EDGELOOP_SEARCH_SUPERNET_ACCURACY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "search/objectives.h"

namespace edgeloop::supernet {
class SupernetImpl;
}

namespace edgeloop::search {

struct SupernetAccuracyOptions {
  std::vector<std::string> files;  // HDF5 data files
  std::string split = "all";       // validation split spec
  int64_t samples = 256;           // -1: the whole split
  int batch_size = 16;
  int workers = 2;  // data loading threads
  int64_t cache_bytes = int64_t{2} << 30;
  bool progress = true;       // a progress line per call with several candidates
  bool interruptible = true;  // SIGINT/SIGTERM cancel an evaluation (base/interrupt.h)
};

// `net` must outlive the evaluator.
absl::StatusOr<std::unique_ptr<AccuracyEvaluator>> CreateSupernetAccuracy(
    supernet::SupernetImpl* net, const SupernetAccuracyOptions& options);

}  // namespace edgeloop::search

#endif  // EDGELOOP_SEARCH_SUPERNET_ACCURACY_H_
