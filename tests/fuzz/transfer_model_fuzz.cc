// A transfer model file (predictor/transfer.h), read by `predictor adapt`, `eval` and
// `replay`; an adapted one also predicts a row.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "predictor/transfer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto model = edgeloop::predictor::TransferModel::Parse(text, "fuzz.json");
  if (!model.ok() || !model->adaptation()) return 0;
  const std::vector<float> row(model->feature_names().size(), 1.0f);
  (void)model->PredictMs(row.data(), 1);
  return 0;
}
