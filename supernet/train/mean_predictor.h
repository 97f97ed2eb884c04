// The mean predictor: a model that learnt nothing but its output bias predicts the training
// split's mean target. Its validation MSE is what a collapsed supernet scores, and the mean
// is where a fresh model's output bias starts (TrainConfig::output_bias_to_mean).
#ifndef EDGELOOP_SUPERNET_TRAIN_MEAN_PREDICTOR_H_
#define EDGELOOP_SUPERNET_TRAIN_MEAN_PREDICTOR_H_

#include <array>

#include "absl/status/statusor.h"
#include "data/pipeline.h"
#include "supernet/evaluate.h"

namespace edgeloop::supernet::train {

// The mean (speed, power) target of the pipeline's whole split, normalised as its batches
// carry them. Reads labels only, no frames; (0, 0) for an empty split.
std::array<double, 2> MeanTarget(const data::Pipeline& pipeline);

// The MSE of predicting `train_mean` on the samples EvaluateSubnet scores under `eval` at
// `frames` x `resolution`. Errors are those of opening the split.
absl::StatusOr<double> MeanPredictorMse(const std::array<double, 2>& train_mean,
                                        const supernet::EvalOptions& eval, int frames,
                                        int resolution);

}  // namespace edgeloop::supernet::train

#endif  // EDGELOOP_SUPERNET_TRAIN_MEAN_PREDICTOR_H_
