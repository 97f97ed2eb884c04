#include "supernet/train/mean_predictor.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "data/transform.h"

namespace edgeloop::supernet::train {
namespace {

// The targets of a pipeline's whole split, normalised as its batches carry them.
std::vector<std::array<float, 2>> SplitTargets(const data::Pipeline& p) {
  std::vector<std::array<float, 2>> targets(static_cast<size_t>(p.split_size()));
  for (size_t i = 0; i < targets.size(); ++i) {
    const data::ScanLine& line =
        p.reader().lines()[static_cast<size_t>(p.line_of_sample(static_cast<int64_t>(i)))];
    data::Targets(line.speed, line.power, p.transform(), targets[i].data());
  }
  return targets;
}

}  // namespace

std::array<double, 2> MeanTarget(const data::Pipeline& pipeline) {
  std::array<double, 2> sum = {0, 0};
  const std::vector<std::array<float, 2>> targets = SplitTargets(pipeline);
  for (const auto& t : targets) {
    sum[0] += t[0];
    sum[1] += t[1];
  }
  const double n = static_cast<double>(std::max<size_t>(1, targets.size()));
  return {sum[0] / n, sum[1] / n};
}

absl::StatusOr<double> MeanPredictorMse(const std::array<double, 2>& train_mean,
                                        const supernet::EvalOptions& eval, int frames,
                                        int resolution) {
  data::PipelineOptions po = supernet::EvalPipelineOptions(eval, frames, resolution);
  po.workers = 0;  // labels only: no batch is built
  auto val = data::Pipeline::Open(po);
  if (!val.ok()) return val.status();
  const std::vector<std::array<float, 2>> targets = SplitTargets(**val);
  double sum = 0;
  for (const auto& t : targets)
    sum += std::pow(t[0] - train_mean[0], 2) + std::pow(t[1] - train_mean[1], 2);
  return sum / (2.0 * static_cast<double>(std::max<size_t>(1, targets.size())));
}

}  // namespace edgeloop::supernet::train
