#include "supernet/evaluate.h"

#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/interrupt.h"
#include "base/progress.h"
#include "data/pipeline.h"

namespace edgeloop::supernet {

data::PipelineOptions EvalPipelineOptions(const EvalOptions& options, int frames, int resolution) {
  data::PipelineOptions po;
  po.files = options.files;
  po.split = options.split;
  po.batch_size = options.batch_size;
  po.frames = frames;
  po.resolution = resolution;
  po.train = false;
  po.workers = options.workers;
  po.max_samples = options.max_samples;
  po.drop_last = false;
  return po;
}

absl::StatusOr<EvalResult> EvaluateModel(VideoSwinImpl& model, const EvalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const ArchConfig& arch = model.arch();
  absl::StatusOr<std::unique_ptr<data::Pipeline>> pipeline =
      data::Pipeline::Open(EvalPipelineOptions(options, static_cast<int>(arch.frames()),
                                               static_cast<int>(arch.resolution())));
  if (!pipeline.ok()) return pipeline.status();
  if (!(*pipeline)->labelled()) {
    return absl::InvalidArgumentError(
        "the data carries no labels (laser_params); evaluation needs labelled data");
  }
  if ((*pipeline)->num_samples() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("split \"", options.split, "\" selects no samples"));
  }
  if (absl::Status s = (*pipeline)->StartEpoch(0); !s.ok()) return s;

  Progress progress("eval", (*pipeline)->num_samples(), "samples", 1.0);
  double sum_speed = 0, sum_power = 0;
  int64_t samples = 0;
  data::Batch batch;
  try {
    model.eval();
    torch::InferenceMode inference;
    while (true) {
      if (Interrupted()) return absl::CancelledError("evaluation interrupted");
      absl::StatusOr<bool> more = (*pipeline)->Next(&batch);
      if (!more.ok()) return more.status();
      if (!*more) break;
      const std::vector<int64_t> shape = {batch.batch_size, arch::kInChans, batch.frames,
                                          batch.resolution, batch.resolution};
      if (absl::Status s = CheckInput(arch, shape); !s.ok()) return s;
      torch::Tensor x = torch::from_blob(batch.inputs.data(), shape, torch::kFloat);
      torch::Tensor y = torch::from_blob(batch.targets.data(),
                                         {batch.batch_size, arch::kNumTargets}, torch::kFloat);
      torch::Tensor err = (model.forward(x) - y).square().sum(0).to(torch::kDouble);
      sum_speed += err[0].item<double>();
      sum_power += err[1].item<double>();
      samples += batch.batch_size;
      if (options.progress) progress.Update(samples);
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("evaluation failed: ", e.what()));
  }
  if (options.progress) progress.Finish();
  EvalResult r;
  r.samples = samples;
  r.mse = (sum_speed + sum_power) / (2.0 * samples);
  r.rmse_speed_mm_s = std::sqrt(sum_speed / samples) * kSpeedScaleMmS;
  r.rmse_power_w = std::sqrt(sum_power / samples) * kPowerScaleW;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

absl::StatusOr<EvalResult> EvaluateSubnet(SupernetImpl& net, const ArchConfig& arch,
                                          const EvalOptions& options) {
  absl::StatusOr<VideoSwin> model = net.extract(arch);
  if (!model.ok()) return model.status();
  return EvaluateModel(**model, options);
}

}  // namespace edgeloop::supernet
