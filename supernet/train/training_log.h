// log.jsonl of a training run: one JSON object per line, each carrying the "step" it was
// written at (a step line, a validation line).
//
// A run resumed from the checkpoint of step S re-runs the steps after S, so their lines
// would appear twice. TrimTrainingLog keeps the lines of steps <= S and drops the rest,
// including a line torn by a kill (it does not parse); lines without a step are kept. The
// file is rewritten atomically; a missing file is fine (nothing was logged yet).
#ifndef EDGELOOP_SUPERNET_TRAIN_TRAINING_LOG_H_
#define EDGELOOP_SUPERNET_TRAIN_TRAINING_LOG_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace edgeloop::supernet::train {

absl::Status TrimTrainingLog(const std::string& path, int64_t step);

}  // namespace edgeloop::supernet::train

#endif  // EDGELOOP_SUPERNET_TRAIN_TRAINING_LOG_H_
