// Few-shot bootstrap of a new device's architecture model from the store's models of other
// devices (the live use of transfer.h).
//
// FitByTransfer takes the latest architecture-mode model of every other device in the store
// (those of this edgeloop's feature version), adapts them to the new device from its few
// measurements `shots` (TransferModel::Adapt), then distills the adaptation into an ordinary
// LatencyModel: the adapted predictions for `pseudo` design architectures (bootstrap.h
// DesignArchitectures, at each batch size) are labels of weight 1 next to the real shots
// with weight `shot_weight`, fitted in the prior_xgb form. The result is used like any other
// device model (search, recalibrator, store versions); the recalibrator then corrects it
// from live measurements. NotFound when the store has no other device's model.
#ifndef EDGELOOP_PREDICTOR_TRANSFER_BOOTSTRAP_H_
#define EDGELOOP_PREDICTOR_TRANSFER_BOOTSTRAP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "arch/space.h"
#include "predictor/dataset.h"
#include "predictor/latency_model.h"
#include "predictor/store.h"

namespace edgeloop::predictor {

struct TransferBootstrapOptions {
  std::vector<int> batches = {1};
  uint64_t seed = 0;
  int pseudo = 600;
  double shot_weight = 10;
  ModelParams params;
};

struct TransferBootstrapResult {
  LatencyModel model;
  std::vector<std::string> sources;  // the devices whose models were adapted
  double loo_rms = 0;                // the adaptation's leave-one-out RMS relative error
};

absl::StatusOr<TransferBootstrapResult> FitByTransfer(const arch::Space& space,
                                                      const MeasurementStore& store,
                                                      const std::string& device,
                                                      const Dataset& shots,
                                                      const TransferBootstrapOptions& options);

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_TRANSFER_BOOTSTRAP_H_
