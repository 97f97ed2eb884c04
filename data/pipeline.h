// The training input pipeline: batches of transformed samples from a split of HDF5 files.
//
// A sample is one scan line (data/transform.h turns its frames into [1, T, R, R] floats and
// (speed/900, power/215) targets). Per epoch the split is shuffled under (seed, epoch) when
// training, or kept in file order for evaluation; with world_size > 1 every rank takes a
// disjoint, equally sized part (floor(N / world_size) samples; the remainder, fewer than
// world_size samples, is left out of that epoch), so all ranks run the same number of batches.
//
// Background workers build batches ahead into a bounded queue: at most prefetch_batches
// batches exist besides the one returned, so memory stays bounded however large the files.
// Every random choice (shuffle, temporal window) is derived from (seed, epoch, sample), so the
// batches are identical whatever the number of workers, and StartEpoch + SkipBatches resumes
// exactly where a run stopped. Each batch may have its own resolution (resolution_for_batch),
// as the supernet samples one per step, and may come at further resolutions too
// (also_resolutions, for subnets that each run at their own).
//
// Unlabelled data (files without laser_params) gives zero targets and Batch::labelled false.
// Next() is for one consumer thread.
#ifndef EDGELOOP_DATA_PIPELINE_H_
#define EDGELOOP_DATA_PIPELINE_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/reader.h"
#include "data/transform.h"

namespace edgeloop::data {

struct Batch {
  int64_t batch_size = 0, frames = 0, resolution = 0;
  std::vector<float> inputs;  // [B, 1, T, R, R] row-major, normalised (mean 0.45, std 0.225)
  // The same samples and temporal windows at PipelineOptions::also_resolutions: r -> [B,1,T,r,r].
  std::map<int, std::vector<float>> inputs_at;
  std::vector<float> targets;       // [B, 2] = (speed/900, power/215); zeros if unlabelled
  std::vector<int64_t> sample_ids;  // index of each sample within the split (stable)
  bool labelled = false;            // every sample of the batch carries a label
};

struct PipelineOptions {
  std::vector<std::string> files;  // HDF5 files (v1.0 file, or v1.1 per-object files / directory)
  std::string split = "all";       // split spec, see data/split.h
  int batch_size = 8;
  int frames = 16;
  int resolution = 64;  // default resolution of every batch
  int crop = 41;        // square crop around the brightest pixel
  // Optional: resolution of batch `index` of `epoch`; must be deterministic, because workers
  // call it ahead of time.
  std::function<int(int64_t epoch, int64_t index)> resolution_for_batch;
  // Every batch is also transformed at these resolutions (Batch::inputs_at), for training that
  // runs subnets of several input resolutions on one batch.
  std::vector<int> also_resolutions;
  bool train = true;  // random window + shuffling; false: centred window, fixed order
  uint64_t seed = 0;
  int workers = 2;               // 0: batches are built in Next() on the caller's thread
  int prefetch_batches = 4;      // bounded queue
  int rank = 0, world_size = 1;  // disjoint shards with equal batch counts
  int64_t max_samples = -1;      // cap on the split (first N in a seeded fixed order), -1 = all
  bool drop_last = true;         // drop the incomplete final batch
};

class Pipeline {
 public:
  static absl::StatusOr<std::unique_ptr<Pipeline>> Open(const PipelineOptions& options);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  int64_t split_size() const { return static_cast<int64_t>(split_lines_.size()); }
  int64_t num_samples() const { return shard_size_; }  // samples in this rank's shard
  int64_t batches_per_epoch() const { return batches_; }
  bool labelled() const { return labelled_; }
  const Reader& reader() const { return *reader_; }
  // How samples are transformed; data::Targets(..., transform(), ...) gives a line's targets.
  const TransformOptions& transform() const { return transform_; }
  // Index into reader().lines() of a sample id.
  int64_t line_of_sample(int64_t sample_id) const {
    return split_lines_[static_cast<size_t>(sample_id)];
  }

  // Starts (or restarts) `epoch` at its first batch.
  absl::Status StartEpoch(int64_t epoch);
  // Skips the next n batches of the current epoch (resume after a checkpoint).
  absl::Status SkipBatches(int64_t n);
  // Fills the next batch of the current epoch; false when the epoch is over.
  absl::StatusOr<bool> Next(Batch* batch);

 private:
  explicit Pipeline(const PipelineOptions& options) : options_(options) {}
  absl::Status BuildBatch(int64_t index, Batch* batch, std::vector<uint8_t>* scratch) const;
  void StartWorkers();
  void StopWorkers();
  void WorkerLoop();

  PipelineOptions options_;
  TransformOptions transform_;
  std::unique_ptr<Reader> reader_;
  std::vector<int64_t> split_lines_;  // sample id -> index into reader_->lines()
  bool labelled_ = false;
  int64_t shard_size_ = 0, batches_ = 0;

  int64_t epoch_ = -1;
  std::vector<int64_t> order_;  // this epoch's shard, as sample ids in delivery order

  std::mutex mu_;
  std::condition_variable cv_;
  int64_t next_assign_ = 0, next_deliver_ = 0;  // batch indices, guarded by mu_
  std::map<int64_t, absl::StatusOr<Batch>> ready_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace edgeloop::data

#endif  // EDGELOOP_DATA_PIPELINE_H_
