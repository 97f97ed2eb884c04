// A training run directory: the one place a supernet (or a stand-alone model) lives.
//
//   RUN_DIR/run.json           what the run is: format, kind, space name and hash or the
//                              fixed architecture, seed, training configuration
//   RUN_DIR/space.textproto    the search space, byte for byte (supernet runs)
//   RUN_DIR/arch.json          the architecture (stand-alone runs)
//   RUN_DIR/checkpoints/       ckpt-<step>.ckpt files (supernet/train/checkpoint.h): model
//                              weights under "model/<name>", optionally "optimizer", and JSON
//                              metadata carrying the step and the space hash
//   RUN_DIR/log.jsonl          one line per logging interval (training)
//   RUN_DIR/summary.json       the final evaluation (training)
//
// Create refuses a directory that already holds a run (so nothing is overwritten by
// mistake); Open checks the format; LoadWeights refuses a checkpoint of another space or
// architecture, naming both.
#ifndef EDGELOOP_SUPERNET_RUN_DIR_H_
#define EDGELOOP_SUPERNET_RUN_DIR_H_

#include <optional>
#include <string>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "arch/space.h"
#include "proto/arch.pb.h"
#include "supernet/train/checkpoint.h"

namespace edgeloop::supernet {

class RunDir {
 public:
  enum class Kind { kSupernet, kStandalone };

  // A new supernet run of `space` (whose text is `space_text`). `config_json` is an object
  // stored under "config" in run.json.
  static absl::StatusOr<RunDir> CreateSupernet(const std::string& path, const Space& space,
                                               const std::string& space_text, uint64_t seed,
                                               const std::string& config_json);
  static absl::StatusOr<RunDir> CreateStandalone(const std::string& path, const ArchConfig& arch,
                                                 uint64_t seed, const std::string& config_json);
  static absl::StatusOr<RunDir> Open(const std::string& path);

  const std::string& path() const { return path_; }
  Kind kind() const { return kind_; }
  // Supernet runs: the space. Stand-alone runs: none.
  const std::optional<Space>& space() const { return space_; }
  // Stand-alone runs: the architecture.
  const ArchConfig& arch() const { return arch_; }
  // Identifies the space or architecture the weights belong to.
  const std::string& model_hash() const { return model_hash_; }
  uint64_t seed() const { return seed_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

  train::CheckpointDir Checkpoints(int keep = 3) const;

  // Saves `model`'s parameters and buffers (and `extra`, e.g. the optimizer) at `step`.
  // `metadata_json` is an object whose fields are merged with step and model hash.
  absl::Status SaveCheckpoint(int64_t step, torch::nn::Module& model,
                              const std::string& metadata_json,
                              const train::ArchiveWriter& extra = nullptr, int keep = 3) const;
  // The newest intact checkpoint, after checking it belongs to this run's model.
  absl::StatusOr<train::LoadedCheckpoint> LoadLatest() const;
  // Copies a checkpoint's weights into `model` (every parameter and buffer must be there
  // with the right shape; the message lists the ones that are not).
  static absl::Status LoadWeights(const train::LoadedCheckpoint& checkpoint,
                                  torch::nn::Module& model);

 private:
  RunDir() = default;
  static absl::StatusOr<RunDir> Create(const std::string& path, Kind kind,
                                       const std::string& descriptor_file,
                                       const std::string& descriptor_text,
                                       const std::string& model_hash, const std::string& name,
                                       uint64_t seed, const std::string& config_json);

  std::string path_;
  Kind kind_ = Kind::kSupernet;
  std::optional<Space> space_;
  ArchConfig arch_;
  std::string model_hash_;
  uint64_t seed_ = 0;
};

// A stable hash of a space's content (whitespace and comments of its file do not matter).
std::string SpaceHash(const Space& space);
std::string ArchHash(const ArchConfig& arch);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_RUN_DIR_H_
