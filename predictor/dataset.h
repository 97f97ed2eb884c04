// A training / evaluation table for the latency model: a row-major float feature matrix
// with named columns, positive latency labels (ms) and optional sample weights.
//
// Two ways to build one: from architecture measurements (features.h, the "arch" mode the
// predictor uses for the edge device), or from any CSV with numeric columns (the generic
// "tabular" mode, for measurements of other tools and search spaces).
#ifndef EDGELOOP_PREDICTOR_DATASET_H_
#define EDGELOOP_PREDICTOR_DATASET_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "predictor/csv.h"
#include "predictor/measurement.h"

namespace edgeloop::predictor {

// A row of the measurement store (store.h); declared only, so that the model and its
// training data do not depend on the store.
struct StoredMeasurement;

struct Dataset {
  std::vector<std::string> feature_names;
  std::vector<float> x;        // rows * cols, row-major
  std::vector<double> y;       // latency (ms), > 0
  std::vector<double> weight;  // empty = all 1

  int cols() const { return static_cast<int>(feature_names.size()); }
  int rows() const { return static_cast<int>(y.size()); }
  const float* row(int r) const { return x.data() + static_cast<size_t>(r) * cols(); }
  // The rows at `indices`, in that order.
  Dataset Subset(const std::vector<int>& indices) const;
};

// Arch-mode features of each measurement, labelled with its median latency.
Dataset ArchDataset(const std::vector<Measurement>& measurements);
Dataset ArchDataset(const std::vector<StoredMeasurement>& measurements);

// Tabular mode: `target` is the label column; `features` the feature columns, or every
// other numeric column when empty. Errors (missing or non-numeric columns, non-positive
// targets, no rows) are InvalidArgument naming the column and line.
absl::StatusOr<Dataset> TabularDataset(const CsvTable& table, const std::string& target,
                                       const std::vector<std::string>& features);

// Features for rows of a CSV in the column order `names` (eval of a tabular model).
absl::StatusOr<std::vector<float>> TabularFeatures(const CsvTable& table,
                                                   const std::vector<std::string>& names);

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_DATASET_H_
