// The CLI side of few-shot transfer (predictor/transfer.h), shared by `predictor fit`
// (--device-column), `predictor eval` (a transfer model file) and `predictor adapt`.
#ifndef EDGELOOP_TOOLS_PREDICTOR_TRANSFER_H_
#define EDGELOOP_TOOLS_PREDICTOR_TRANSFER_H_

#include <string>

#include "predictor/latency_model.h"

namespace edgeloop {

// `predictor fit --csv CSV --device-column COL`: one model per device, saved as one transfer
// model at `out`. Returns the exit code (errors reported as `cmd`).
int FitTransferModel(const char* cmd, const std::string& csv, const std::string& target,
                     const std::string& features, const std::string& device_column,
                     const predictor::ModelParams& params, int folds, const std::string& out,
                     bool json);

// `predictor eval` of an adapted transfer model on a CSV with its target and feature columns.
int EvalTransferModel(const char* cmd, const std::string& model_path, const std::string& csv,
                      bool json);

}  // namespace edgeloop

#endif  // EDGELOOP_TOOLS_PREDICTOR_TRANSFER_H_
