#include "predictor/transfer_stream.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace edgeloop::predictor {
namespace {

// The sources' geometric-mean prediction for one row.
absl::StatusOr<double> SourceMean(const TransferModel& model, const float* x) {
  double log_sum = 0;
  const std::vector<std::string> devices = model.source_devices();
  for (const auto& d : devices) {
    auto p = model.PredictSourceMs(d, x, 1);
    if (!p.ok()) return p.status();
    log_sum += std::log(std::max((*p)[0], 1e-9));
  }
  return std::exp(log_sum / devices.size());
}

bool IsSource(const TransferModel& model, const std::string& device) {
  const std::vector<std::string> devices = model.source_devices();
  return std::find(devices.begin(), devices.end(), device) != devices.end();
}

}  // namespace

absl::StatusOr<ReplayResult> ReplayStream(TransferModel* model, const Dataset& rows,
                                          const std::vector<std::string>& device_of_row,
                                          const ReplayOptions& options) {
  if (device_of_row.size() != static_cast<size_t>(rows.rows()))
    return absl::InvalidArgumentError("one device label per row is needed");
  if (rows.feature_names != model->feature_names())
    return absl::InvalidArgumentError("the stream has other features than the transfer model");
  ReplayResult r;
  Dataset shots;
  shots.feature_names = rows.feature_names;
  double first_ratio = 0;  // measured / source mean of the new device's first row
  for (int i = 0; i < rows.rows(); ++i) {
    const std::string& device = device_of_row[i];
    const float* x = rows.row(i);
    double predicted = 0;
    if (IsSource(*model, device)) {
      auto p = model->PredictSourceMs(device, x, 1);
      if (!p.ok()) return p.status();
      predicted = (*p)[0];
    } else {
      if (r.switch_at < 0) {
        r.switch_at = i;
        r.new_device = device;
      } else if (device != r.new_device) {
        return absl::InvalidArgumentError(absl::StrCat("a second unseen device \"", device,
                                                       "\" after \"", r.new_device, "\" (row ",
                                                       i + 1, ")"));
      }
      auto mean = SourceMean(*model, x);
      if (!mean.ok()) return mean.status();
      if (shots.rows() == 0) {
        predicted = *mean;
      } else if (shots.rows() == 1) {
        predicted = *mean * first_ratio;
      } else {
        auto p = model->PredictMs(x, 1);
        if (!p.ok()) return p.status();
        predicted = (*p)[0];
      }
      if (shots.rows() == 0) first_ratio = rows.y[i] / *mean;
      shots.x.insert(shots.x.end(), x, x + rows.cols());
      shots.y.push_back(rows.y[i]);
      const int n = shots.rows();
      if (n >= 2 && (n <= options.readapt_every_after || n % 10 == 0)) {
        if (auto s = model->Adapt(shots, device); !s.ok()) return s;
      }
    }
    r.measured.push_back(rows.y[i]);
    r.predicted.push_back(predicted);
  }
  const size_t split = r.switch_at < 0 ? r.measured.size() : static_cast<size_t>(r.switch_at);
  auto part = [&](size_t from, size_t to) {
    return ComputeMetrics({r.measured.begin() + from, r.measured.begin() + to},
                          {r.predicted.begin() + from, r.predicted.begin() + to});
  };
  r.before_switch = part(0, split);
  if (r.switch_at >= 0) {
    r.after_switch = part(split, r.measured.size());
    std::vector<bool> hits;
    for (size_t i = split; i < r.measured.size(); ++i)
      hits.push_back(std::fabs(r.predicted[i] / r.measured[i] - 1) <= options.tolerance);
    r.recovered_after =
        MeasurementsToRecover(hits, options.recovery_window, options.recovery_hit_rate);
  }
  return r;
}

}  // namespace edgeloop::predictor
