// Crash-safe training checkpoints.
//
// A checkpoint file holds a JSON metadata string and a LibTorch archive (model weights,
// optimizer state, ...), framed by a magic header, lengths and a 64-bit checksum, so a
// truncated or corrupted file is detected on read (DataLoss) instead of loading garbage.
// Files are written with WriteFileAtomically. CheckpointDir keeps `ckpt-<step>.ckpt` files in
// one directory, the newest `keep` of them, and LoadLatest returns the newest file that
// verifies, skipping (and reporting) damaged ones.
#ifndef EDGELOOP_SUPERNET_TRAIN_CHECKPOINT_H_
#define EDGELOOP_SUPERNET_TRAIN_CHECKPOINT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace edgeloop::train {

using ArchiveWriter = std::function<void(torch::serialize::OutputArchive&)>;

absl::Status WriteCheckpointFile(const std::string& path, const std::string& metadata_json,
                                 const ArchiveWriter& write);

struct LoadedCheckpoint {
  std::string path;
  int64_t step = -1;
  std::string metadata_json;
  std::shared_ptr<torch::serialize::InputArchive> archive;
  std::vector<std::string> skipped;  // damaged newer files that were passed over, with why
};

absl::StatusOr<LoadedCheckpoint> ReadCheckpointFile(const std::string& path);

class CheckpointDir {
 public:
  CheckpointDir(std::string dir, int keep);

  absl::Status Save(int64_t step, const std::string& metadata_json, const ArchiveWriter& write);
  // NotFound when the directory holds no checkpoint at all; DataLoss when every one is damaged.
  absl::StatusOr<LoadedCheckpoint> LoadLatest() const;
  // Steps of the checkpoint files present, ascending.
  std::vector<int64_t> Steps() const;
  std::string PathFor(int64_t step) const;

 private:
  std::string dir_;
  int keep_;
};

}  // namespace edgeloop::train

#endif  // EDGELOOP_SUPERNET_TRAIN_CHECKPOINT_H_
