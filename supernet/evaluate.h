// Inherited-weight evaluation of a subnet on a data split: the reference's loss (MSE on the
// normalised targets speed/900, power/215) and the RMSE of each target in physical units.
//
// The subnet is extracted from the supernet and run as a static model in inference mode
// (torch::InferenceMode), on the split's samples in file order with the evaluation
// transform (centred temporal window) at the architecture's frames and resolution.
#ifndef EDGELOOP_SUPERNET_EVALUATE_H_
#define EDGELOOP_SUPERNET_EVALUATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "arch/arch_config.h"
#include "data/pipeline.h"
#include "supernet/supernet.h"
#include "supernet/video_swin.h"

namespace edgeloop::supernet {

inline constexpr double kSpeedScaleMmS = 900.0;  // targets are speed / 900 mm/s
inline constexpr double kPowerScaleW = 215.0;    // and power / 215 W

struct EvalOptions {
  std::vector<std::string> files;  // HDF5 data files (see data/pipeline.h)
  std::string split = "all";       // split spec (data/split.h)
  int64_t max_samples = -1;        // first N samples of the split (seeded order), -1 = all
  int batch_size = 8;
  int workers = 2;        // data pipeline threads
  bool progress = false;  // progress line on stderr
};

struct EvalResult {
  double mse = 0;  // mean over samples and both targets, normalised units
  double rmse_speed_mm_s = 0;
  double rmse_power_w = 0;
  int64_t samples = 0;
  double seconds = 0;  // wall time, data loading included
};

// The data pipeline of an evaluation at `frames` x `resolution`: the split in file order with
// the centred window, the incomplete last batch kept. Whoever reads these samples reads
// exactly the ones EvaluateModel scores.
data::PipelineOptions EvalPipelineOptions(const EvalOptions& options, int frames, int resolution);

// InvalidArgument for unlabelled data or an empty split.
absl::StatusOr<EvalResult> EvaluateModel(VideoSwinImpl& model, const EvalOptions& options);

// Extracts `arch` (which must lie in the supernet's space) and evaluates it.
absl::StatusOr<EvalResult> EvaluateSubnet(SupernetImpl& net, const ArchConfig& arch,
                                          const EvalOptions& options);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_EVALUATE_H_
