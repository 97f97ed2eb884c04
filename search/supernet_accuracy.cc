#include "search/supernet_accuracy.h"

#include <algorithm>
#include <cmath>
#include <list>
#include <map>
#include <numeric>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "base/interrupt.h"
#include "base/progress.h"
#include "data/pipeline.h"
#include "supernet/evaluate.h"
#include "supernet/supernet.h"

namespace edgeloop::search {
namespace {

struct ValidationSet {
  std::vector<torch::Tensor> inputs;   // [B, 1, T, R, R]
  std::vector<torch::Tensor> targets;  // [B, 2]
  int64_t bytes = 0;
  int64_t samples = 0;
};

class SupernetAccuracy : public AccuracyEvaluator {
 public:
  SupernetAccuracy(supernet::SupernetImpl* net, SupernetAccuracyOptions options)
      : net_(net), options_(std::move(options)) {
    eval_.files = options_.files;
    eval_.split = options_.split;
    eval_.max_samples = options_.samples;
    eval_.batch_size = options_.batch_size;
    eval_.workers = options_.workers;
  }

  absl::StatusOr<std::vector<AccuracyScore>> Evaluate(
      const std::vector<ArchConfig>& archs) override {
    std::vector<AccuracyScore> scores(archs.size());
    std::vector<size_t> order(archs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return std::make_pair(archs[a].frames(), archs[a].resolution()) <
             std::make_pair(archs[b].frames(), archs[b].resolution());
    });
    Progress progress("accuracy", static_cast<int64_t>(archs.size()), "subnets", 2.0);
    const bool report = options_.progress && archs.size() > 1;
    int64_t done = 0;
    for (size_t i : order) {
      if (options_.interruptible && Interrupted())
        return absl::CancelledError("search interrupted");
      absl::StatusOr<const ValidationSet*> set = Load(archs[i].frames(), archs[i].resolution());
      if (!set.ok()) return set.status();
      absl::StatusOr<AccuracyScore> score = Score(archs[i], **set);
      if (!score.ok()) return score.status();
      scores[i] = *score;
      if (report) progress.Update(++done);
    }
    if (report) progress.Finish();
    return scores;
  }

 private:
  absl::StatusOr<AccuracyScore> Score(const ArchConfig& arch, const ValidationSet& set) {
    absl::StatusOr<supernet::VideoSwin> model = net_->extract(arch);
    if (!model.ok()) return model.status();
    double sum_speed = 0, sum_power = 0;
    try {
      (*model)->eval();
      torch::InferenceMode inference;
      for (size_t b = 0; b < set.inputs.size(); ++b) {
        torch::Tensor err =
            ((*model)->forward(set.inputs[b]) - set.targets[b]).square().sum(0).to(torch::kDouble);
        sum_speed += err[0].item<double>();
        sum_power += err[1].item<double>();
      }
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("evaluation of a subnet failed: ", e.what()));
    }
    const double n = static_cast<double>(set.samples);
    AccuracyScore score;
    score.mse = (sum_speed + sum_power) / (2.0 * n);
    score.rmse_speed_mm_s = std::sqrt(sum_speed / n) * supernet::kSpeedScaleMmS;
    score.rmse_power_w = std::sqrt(sum_power / n) * supernet::kPowerScaleW;
    return score;
  }

  absl::StatusOr<const ValidationSet*> Load(int frames, int resolution) {
    const auto shape = std::make_pair(frames, resolution);
    if (auto it = sets_.find(shape); it != sets_.end()) {
      recency_.remove(shape);
      recency_.push_back(shape);
      return &it->second;
    }
    // The samples `edgeloop eval` scores, so search and eval agree on a subnet's MSE.
    auto pipeline = data::Pipeline::Open(supernet::EvalPipelineOptions(eval_, frames, resolution));
    if (!pipeline.ok()) return pipeline.status();
    if (!(*pipeline)->labelled()) {
      return absl::InvalidArgumentError("the validation data carries no labels (laser_params)");
    }
    if ((*pipeline)->num_samples() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("validation split \"", options_.split, "\" selects no samples"));
    }
    if (absl::Status s = (*pipeline)->StartEpoch(0); !s.ok()) return s;
    ValidationSet set;
    data::Batch batch;
    while (true) {
      if (options_.interruptible && Interrupted())
        return absl::CancelledError("search interrupted");
      absl::StatusOr<bool> more = (*pipeline)->Next(&batch);
      if (!more.ok()) return more.status();
      if (!*more) break;
      set.inputs.push_back(
          torch::from_blob(batch.inputs.data(),
                           {batch.batch_size, 1, batch.frames, batch.resolution, batch.resolution},
                           torch::kFloat)
              .clone());
      set.targets.push_back(
          torch::from_blob(batch.targets.data(), {batch.batch_size, 2}, torch::kFloat).clone());
      set.samples += batch.batch_size;
      set.bytes +=
          static_cast<int64_t>((batch.inputs.size() + batch.targets.size()) * sizeof(float));
    }
    // Evict least recently used shapes to stay under the budget (the new one always stays).
    int64_t total = set.bytes;
    for (const auto& [key, held] : sets_) total += held.bytes;
    while (total > options_.cache_bytes && !recency_.empty()) {
      total -= sets_[recency_.front()].bytes;
      sets_.erase(recency_.front());
      recency_.pop_front();
    }
    recency_.push_back(shape);
    return &(sets_[shape] = std::move(set));
  }

  supernet::SupernetImpl* net_;
  SupernetAccuracyOptions options_;
  supernet::EvalOptions eval_;  // options_ as the evaluation's data options
  std::map<std::pair<int, int>, ValidationSet> sets_;
  std::list<std::pair<int, int>> recency_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AccuracyEvaluator>> CreateSupernetAccuracy(
    supernet::SupernetImpl* net, const SupernetAccuracyOptions& options) {
  if (net == nullptr) return absl::InvalidArgumentError("no supernet");
  if (options.samples == 0 || options.samples < -1) {
    return absl::InvalidArgumentError("--samples must be >= 1 (or -1 for the whole split)");
  }
  if (options.batch_size < 1) return absl::InvalidArgumentError("--eval-batch must be >= 1");
  return std::unique_ptr<AccuracyEvaluator>(new SupernetAccuracy(net, options));
}

}  // namespace edgeloop::search
