// Accuracy evaluation spread over the processes of a multi-process launch (c10d; ranks
// from torchrun-style or Slurm variables, dist/launch_env.h).
//
// Rank 0 runs the search and calls Evaluate: the architectures are broadcast, every rank
// scores each world_size-th of them with its own copy of the supernet, and the scores are
// summed back (exactly: each score comes from one rank, the others add zeros), so the
// result equals a single process's. The other ranks sit in Serve until rank 0 calls
// Shutdown. A rank that dies makes the others fail with a clear error (collective timeout).
#ifndef EDGELOOP_SEARCH_DISTRIBUTED_ACCURACY_H_
#define EDGELOOP_SEARCH_DISTRIBUTED_ACCURACY_H_

#include "absl/status/status.h"
#include "search/objectives.h"

namespace edgeloop::dist {
class Distributed;
}

namespace edgeloop::search {

class DistributedAccuracy : public AccuracyEvaluator {
 public:
  // Both must outlive this object; `local` scores this rank's share.
  DistributedAccuracy(dist::Distributed* group, AccuracyEvaluator* local)
      : group_(group), local_(local) {}
  // Rank 0 only.
  absl::StatusOr<std::vector<AccuracyScore>> Evaluate(
      const std::vector<ArchConfig>& archs) override;
  // Ranks > 0: scores their shares until rank 0 shuts the group down.
  absl::Status Serve();
  // Rank 0: releases the serving ranks (call once, also after a failed search).
  absl::Status Shutdown();

 private:
  // Broadcasts `archs` from rank 0 (n = -1: shut down) and returns them on every rank.
  absl::StatusOr<std::vector<ArchConfig>> Exchange(const std::vector<ArchConfig>& archs,
                                                   bool shutdown);
  absl::StatusOr<std::vector<AccuracyScore>> ScoreShare(const std::vector<ArchConfig>& archs);

  dist::Distributed* group_;
  AccuracyEvaluator* local_;
};

}  // namespace edgeloop::search

#endif  // EDGELOOP_SEARCH_DISTRIBUTED_ACCURACY_H_
