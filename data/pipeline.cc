#include "data/pipeline.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/rng.h"
#include "data/split.h"

namespace edgeloop::data {
namespace {

// Salts separating the random streams drawn from the one user seed.
constexpr uint64_t kCapSalt = 0x6361705f73706c74ull;
constexpr uint64_t kShuffleSalt = 0x73687566666c6521ull;
constexpr uint64_t kWindowSalt = 0x77696e646f777321ull;

absl::Status CheckOptions(const PipelineOptions& o) {
  auto bad = [](const std::string& what) { return absl::InvalidArgumentError(what); };
  if (o.files.empty()) return bad("pipeline: no data files given");
  if (o.batch_size < 1)
    return bad(absl::StrCat("batch size: got ", o.batch_size, ", expected >= 1"));
  if (o.resolution < 1)
    return bad(absl::StrCat("resolution: got ", o.resolution, ", expected >= 1"));
  for (int r : o.also_resolutions)
    if (r < 1) return bad(absl::StrCat("also_resolutions: got ", r, ", expected >= 1"));
  if (o.workers < 0) return bad(absl::StrCat("workers: got ", o.workers, ", expected >= 0"));
  if (o.prefetch_batches < 1)
    return bad(absl::StrCat("prefetch batches: got ", o.prefetch_batches, ", expected >= 1"));
  if (o.world_size < 1 || o.rank < 0 || o.rank >= o.world_size)
    return bad(absl::StrCat("rank ", o.rank, " of world size ", o.world_size, " is invalid"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Pipeline>> Pipeline::Open(const PipelineOptions& options) {
  if (auto s = CheckOptions(options); !s.ok()) return s;
  std::unique_ptr<Pipeline> p(new Pipeline(options));
  p->transform_.crop = options.crop;
  p->transform_.frames = options.frames;
  if (auto s = ValidateTransformOptions(p->transform_); !s.ok()) return s;
  auto split = ParseSplit(options.split);
  if (!split.ok()) return split.status();
  auto reader = Reader::Open(options.files);
  if (!reader.ok()) return reader.status();
  p->reader_ = std::move(*reader);
  auto lines = SelectLines(*p->reader_, *split);
  if (!lines.ok()) return lines.status();
  p->split_lines_ = std::move(*lines);
  if (p->split_lines_.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("split '", options.split, "' selects no scan lines"));
  if (options.max_samples >= 0 && options.max_samples < p->split_size()) {
    std::vector<int64_t> capped = p->split_lines_;
    Rng rng = Rng::Derive(options.seed, kCapSalt);
    rng.Shuffle(&capped);
    capped.resize(static_cast<size_t>(options.max_samples));
    std::sort(capped.begin(), capped.end());
    p->split_lines_ = std::move(capped);
  }
  p->labelled_ = std::all_of(p->split_lines_.begin(), p->split_lines_.end(), [&](int64_t i) {
    return p->reader_->lines()[static_cast<size_t>(i)].labelled;
  });
  p->shard_size_ = p->split_size() / options.world_size;
  if (options.world_size == 1) p->shard_size_ = p->split_size();
  p->batches_ = options.drop_last ? p->shard_size_ / options.batch_size
                                  : (p->shard_size_ + options.batch_size - 1) / options.batch_size;
  if (p->batches_ == 0)
    return absl::InvalidArgumentError(
        absl::StrCat("split '", options.split, "' gives ", p->shard_size_,
                     " samples per rank, fewer than one batch of ", options.batch_size));
  return p;
}

Pipeline::~Pipeline() { StopWorkers(); }

absl::Status Pipeline::StartEpoch(int64_t epoch) {
  if (epoch < 0)
    return absl::InvalidArgumentError(absl::StrCat("epoch: got ", epoch, ", expected >= 0"));
  StopWorkers();
  std::vector<int64_t> all(static_cast<size_t>(split_size()));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  if (options_.train) {
    Rng rng = Rng::Derive(options_.seed ^ kShuffleSalt, static_cast<uint64_t>(epoch));
    rng.Shuffle(&all);
  }
  order_.clear();
  for (int64_t k = 0; k < shard_size_; ++k)
    order_.push_back(all[static_cast<size_t>(options_.rank + k * options_.world_size)]);
  epoch_ = epoch;
  next_assign_ = next_deliver_ = 0;
  return absl::OkStatus();
}

absl::Status Pipeline::SkipBatches(int64_t n) {
  if (epoch_ < 0) return absl::FailedPreconditionError("SkipBatches before StartEpoch");
  if (n < 0) return absl::InvalidArgumentError(absl::StrCat("cannot skip ", n, " batches"));
  StopWorkers();
  next_deliver_ = std::min(batches_, next_deliver_ + n);
  next_assign_ = next_deliver_;
  return absl::OkStatus();
}

absl::StatusOr<bool> Pipeline::Next(Batch* batch) {
  if (epoch_ < 0) return absl::FailedPreconditionError("Next before StartEpoch");
  if (next_deliver_ >= batches_) return false;
  if (options_.workers == 0) {
    std::vector<uint8_t> scratch;
    if (auto s = BuildBatch(next_deliver_, batch, &scratch); !s.ok()) return s;
    ++next_deliver_;
    return true;
  }
  if (threads_.empty()) StartWorkers();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return ready_.count(next_deliver_) > 0; });
  auto it = ready_.find(next_deliver_);
  absl::StatusOr<Batch> result = std::move(it->second);
  ready_.erase(it);
  ++next_deliver_;
  lock.unlock();
  cv_.notify_all();
  if (!result.ok()) return result.status();
  *batch = std::move(*result);
  return true;
}

void Pipeline::StartWorkers() {
  stop_ = false;
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { WorkerLoop(); });
}

void Pipeline::StopWorkers() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  ready_.clear();
  next_assign_ = next_deliver_;
}

void Pipeline::WorkerLoop() {
  std::vector<uint8_t> scratch;
  for (;;) {
    int64_t index;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stop_ || (next_assign_ < batches_ &&
                         next_assign_ < next_deliver_ + options_.prefetch_batches);
      });
      if (stop_) return;
      index = next_assign_++;
    }
    Batch batch;
    absl::Status status = BuildBatch(index, &batch, &scratch);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      if (status.ok()) {
        ready_.emplace(index, std::move(batch));
      } else {
        ready_.emplace(index, status);
      }
    }
    cv_.notify_all();
  }
}

absl::Status Pipeline::BuildBatch(int64_t index, Batch* batch,
                                  std::vector<uint8_t>* scratch) const {
  const int64_t begin = index * options_.batch_size;
  const int64_t end = std::min<int64_t>(begin + options_.batch_size, shard_size_);
  const int resolution = options_.resolution_for_batch
                             ? options_.resolution_for_batch(epoch_, index)
                             : options_.resolution;
  if (resolution < 1)
    return absl::InvalidArgumentError(absl::StrCat("resolution for batch ", index, " of epoch ",
                                                   epoch_, ": got ", resolution,
                                                   ", expected >= 1"));
  const int64_t frames = transform_.frames;
  const int64_t sample_floats = frames * resolution * resolution;
  batch->batch_size = end - begin;
  batch->frames = frames;
  batch->resolution = resolution;
  batch->inputs.assign(static_cast<size_t>(batch->batch_size * sample_floats), 0.0f);
  batch->targets.assign(static_cast<size_t>(batch->batch_size * 2), 0.0f);
  batch->sample_ids.clear();
  batch->labelled = true;
  batch->inputs_at.clear();
  for (int r : options_.also_resolutions)
    batch->inputs_at[r].assign(static_cast<size_t>(batch->batch_size * frames * r * r), 0.0f);
  const auto& lines = reader_->lines();
  for (int64_t k = begin; k < end; ++k) {
    const int64_t sample = order_[static_cast<size_t>(k)];
    const int64_t line_index = split_lines_[static_cast<size_t>(sample)];
    const ScanLine& line = lines[static_cast<size_t>(line_index)];
    const LayerInfo& layer = reader_->layers()[static_cast<size_t>(line.layer)];
    if (auto s = reader_->ReadFrames(line_index, scratch); !s.ok()) return s;
    Rng rng = Rng::Derive(options_.seed ^ kWindowSalt,
                          (static_cast<uint64_t>(epoch_) << 40) ^ static_cast<uint64_t>(sample));
    const int64_t offset = WindowOffset(line.num_frames, transform_.frames, options_.train, &rng);
    const int64_t slot = k - begin;
    TransformFrames(scratch->data(), line.num_frames, layer.height, layer.width, offset, resolution,
                    transform_, batch->inputs.data() + slot * sample_floats);
    for (auto& [r, inputs] : batch->inputs_at) {
      TransformFrames(scratch->data(), line.num_frames, layer.height, layer.width, offset, r,
                      transform_, inputs.data() + slot * frames * r * r);
    }
    if (line.labelled) {
      Targets(line.speed, line.power, transform_, batch->targets.data() + slot * 2);
    } else {
      batch->labelled = false;
    }
    batch->sample_ids.push_back(sample);
  }
  return absl::OkStatus();
}

}  // namespace edgeloop::data
