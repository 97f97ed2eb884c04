#include "predictor/dataset.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "predictor/features.h"
#include "predictor/store.h"

namespace edgeloop::predictor {

Dataset Dataset::Subset(const std::vector<int>& indices) const {
  Dataset out;
  out.feature_names = feature_names;
  out.x.reserve(indices.size() * cols());
  for (int i : indices) {
    out.x.insert(out.x.end(), row(i), row(i) + cols());
    out.y.push_back(y[i]);
    if (!weight.empty()) out.weight.push_back(weight[i]);
  }
  return out;
}

Dataset ArchDataset(const std::vector<Measurement>& measurements) {
  Dataset d;
  d.feature_names = FeatureNames();
  d.x.resize(measurements.size() * d.cols());
  for (size_t i = 0; i < measurements.size(); ++i) {
    ComputeFeatures(measurements[i].arch, measurements[i].batch_size, d.x.data() + i * d.cols());
    d.y.push_back(measurements[i].median_ms);
  }
  return d;
}

Dataset ArchDataset(const std::vector<StoredMeasurement>& measurements) {
  std::vector<Measurement> plain;
  plain.reserve(measurements.size());
  for (const auto& s : measurements) plain.push_back(s.m);
  return ArchDataset(plain);
}

absl::StatusOr<std::vector<float>> TabularFeatures(const CsvTable& table,
                                                   const std::vector<std::string>& names) {
  std::vector<float> x(table.rows.size() * names.size());
  for (size_t c = 0; c < names.size(); ++c) {
    auto column = table.NumericColumn(names[c]);
    if (!column.ok()) return column.status();
    for (size_t r = 0; r < column->size(); ++r)
      x[r * names.size() + c] = static_cast<float>((*column)[r]);
  }
  return x;
}

absl::StatusOr<Dataset> TabularDataset(const CsvTable& table, const std::string& target,
                                       const std::vector<std::string>& features) {
  if (table.rows.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(table.origin, ": no data rows (empty training set)"));
  }
  auto y = table.NumericColumn(target);
  if (!y.ok()) return y.status();
  for (size_t r = 0; r < y->size(); ++r) {
    if ((*y)[r] <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(table.origin, ": line ", r + 2, ", target \"",
                                                     target, "\" must be > 0 (a latency)"));
    }
  }
  Dataset d;
  if (features.empty()) {
    std::vector<std::string> skipped;
    for (size_t c = 0; c < table.header.size(); ++c) {
      if (table.header[c] == target) continue;
      if (table.IsNumeric(static_cast<int>(c))) {
        d.feature_names.push_back(table.header[c]);
      } else {
        skipped.push_back(table.header[c]);
      }
    }
    if (d.feature_names.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(table.origin, ": no numeric feature column besides \"", target, "\"",
                       skipped.empty() ? "" : " (not numeric: ", absl::StrJoin(skipped, ", "),
                       skipped.empty() ? "" : ")"));
    }
  } else {
    for (const auto& f : features) {
      if (f == target) {
        return absl::InvalidArgumentError(absl::StrCat("feature \"", f, "\" is the target column"));
      }
    }
    d.feature_names = features;
  }
  auto x = TabularFeatures(table, d.feature_names);
  if (!x.ok()) return x.status();
  d.x = std::move(*x);
  d.y = std::move(*y);
  return d;
}

}  // namespace edgeloop::predictor
