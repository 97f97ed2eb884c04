// A run directory: the space a supernet belongs to and its checkpoints.
//
//   RUN_DIR/space.textproto           the search space, as given to `edgeloop init`
//   RUN_DIR/run.json                  {"format":"edgeloop-run-v1","space_name",
//                                      "space_fingerprint","seed","created_unix"}; written
//                                      last, so its presence marks a complete run directory
//   RUN_DIR/checkpoints/ckpt-<step>.pt one checkpoint per saved step (9-digit step)
//   RUN_DIR/checkpoints/latest        the file name of the newest checkpoint
//
// A checkpoint is a pickled dict readable by Python's torch.load: "format", "space_name",
// "space_fingerprint" (FNV-1a of the space's canonical text), "step", "model" (the supernet
// state dict), plus any extra entries a trainer stores (optimizer state, RNG, ...). Every
// file is written atomically and `latest` moves only after its checkpoint is complete, so a
// crash leaves the previous checkpoint in force. A checkpoint damaged later (a disk that lost
// its tail, a partial copy) is skipped with a warning on stderr and the newest intact one is
// used, by every reader (`eval`, `export --run`, the trainer's --resume). Loading a
// checkpoint into a supernet of another space is a FailedPrecondition naming both spaces.
//
// A training checkpoint (SaveTrainingCheckpoint) also holds the optimizer state, as a uint8
// tensor of LibTorch's archive bytes so that torch.load still reads the file, and the
// position of the run ("epoch", "batch", "world_size", "global_batch"): enough to resume
// exactly.
#ifndef EDGELOOP_SUPERNET_RUN_DIR_H_
#define EDGELOOP_SUPERNET_RUN_DIR_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "arch/space.h"
#include "supernet/state_dict.h"
#include "supernet/supernet.h"

namespace edgeloop::supernet {

// Hex FNV-1a 64 of the space's canonical text format.
std::string SpaceFingerprint(const arch::Space& space);

struct Checkpoint {
  std::string space_name;
  std::string space_fingerprint;
  int64_t step = 0;
  StateDict model;
  std::map<std::string, c10::IValue> extras;  // trainer state, keyed freely
};

absl::StatusOr<Checkpoint> ReadCheckpoint(const std::string& path);
absl::Status WriteCheckpoint(const std::string& path, const Checkpoint& checkpoint);
// Checks the checkpoint's space against the supernet's, then loads its weights.
absl::Status LoadCheckpointInto(const Checkpoint& checkpoint, SupernetImpl& net);

// Where a training run stands after `step` steps: the next batch is batch `batch_in_epoch`
// of `epoch`, in a job of `world_size` processes taking `global_batch` samples a step.
struct TrainingPosition {
  int64_t step = 0;
  int64_t epoch = 0;
  int64_t batch_in_epoch = 0;
  int64_t world_size = 1;
  int64_t global_batch = 0;
};

// The position a checkpoint records; fields it lacks are 0, world_size -1 (the step-0
// checkpoint of a fresh run directory records none).
TrainingPosition TrainingPositionOf(const Checkpoint& checkpoint);
// Loads the optimizer state of a training checkpoint read from `path` into `optimizer`,
// whose parameter groups must be those it was saved from. DataLoss when the checkpoint has
// none; Internal when LibTorch cannot load it.
absl::Status LoadOptimizerState(const Checkpoint& checkpoint, const std::string& path,
                                torch::optim::Optimizer& optimizer);

class RunDir {
 public:
  // Creates RUN_DIR from a space file with a supernet freshly initialised under `seed`
  // (checkpoint step 0). AlreadyExists when RUN_DIR already holds a run.
  static absl::StatusOr<RunDir> Create(const std::string& dir, const std::string& space_path,
                                       uint64_t seed);
  // Rank 0 of a training job prepares its run directory: when `dir` holds no run, creates
  // one for `space` (`space_text` is its file, stored verbatim) with a supernet initialised
  // under `seed`, or NotFound when `resume` (there is nothing to continue). When it holds one:
  // AlreadyExists unless `resume`, InvalidArgument when that run belongs to another space. A
  // damaged or foreign directory is never overwritten (the error of Open).
  static absl::Status PrepareForTraining(const std::string& dir, const arch::Space& space,
                                         const std::string& space_text, uint64_t seed, bool resume);
  // Opens an existing run; NotFound / InvalidArgument when it is not one.
  static absl::StatusOr<RunDir> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const arch::Space& space() const { return space_; }
  uint64_t seed() const { return seed_; }

  // Path of the newest checkpoint as `latest` names it; NotFound when none was saved.
  absl::StatusOr<std::string> LatestCheckpointPath() const;
  // The checkpoint files (step, path), oldest first.
  std::vector<std::pair<int64_t, std::string>> CheckpointFiles() const;
  // The newest checkpoint that reads back intact, and its path in `*path` when given.
  // Damaged newer ones are reported on stderr and skipped. NotFound when the run holds no
  // checkpoint, DataLoss when every one is damaged.
  absl::StatusOr<Checkpoint> ReadNewestCheckpoint(std::string* path = nullptr) const;
  // The supernet of the run's space holding the newest intact checkpoint's weights.
  absl::StatusOr<Supernet> LoadSupernet() const;
  // Writes checkpoints/ckpt-<step>.pt, moves `latest` to it, then removes all but the
  // newest `keep_last` checkpoints (0: keeps all).
  absl::Status SaveCheckpoint(SupernetImpl& net, int64_t step,
                              const std::map<std::string, c10::IValue>& extras = {},
                              int keep_last = 0) const;
  // SaveCheckpoint of step `position.step`, adding the optimizer's state and `position`.
  absl::Status SaveTrainingCheckpoint(SupernetImpl& net, torch::optim::Optimizer& optimizer,
                                      const TrainingPosition& position, int keep_last) const;

 private:
  RunDir(std::string dir, arch::Space space, uint64_t seed)
      : dir_(std::move(dir)), space_(std::move(space)), seed_(seed) {}
  // Create's work once the space is read: `text` is stored verbatim as the space file.
  static absl::StatusOr<RunDir> CreateWith(const std::string& dir, const std::string& text,
                                           const arch::Space& space, uint64_t seed);

  std::string dir_;
  arch::Space space_;
  uint64_t seed_ = 0;
};

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_RUN_DIR_H_
