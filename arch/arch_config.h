// Operations on ArchConfig, the architecture contract (proto/arch.proto).
//
// - JSON in: our snake_case keys, plus the reference system's hyperparameters JSON, which
//   may also carry `name`, `in_chans` (must be 1), `num_classes` (must be 400) and the
//   training hyper-parameters it searched (`lr`, `learning_rate`, `step_size`, `gamma`,
//   `batch_size`, `epochs`), which are accepted and ignored. Any other key is an error.
// - JSON out: one compact line, keys in a fixed order, so equal architectures print equally.
// - CanonicalKey: a short stable string, equal iff the architectures are equal.
// - ValidateStructure: the checks any Video Swin needs, whatever the space (four stages,
//   three-dimensional patch and window, heads dividing the stage width, ...).
// Errors are InvalidArgument with one line naming the field, the value and what is allowed.
#ifndef EDGELOOP_ARCH_ARCH_CONFIG_H_
#define EDGELOOP_ARCH_ARCH_CONFIG_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/arch.pb.h"

namespace edgeloop::arch {

inline constexpr int kNumStages = 4;
inline constexpr int kInChans = 1;        // grey melt-pool video
inline constexpr int kHeadClasses = 400;  // head.fc_cls width of the reference
inline constexpr int kHeadHidden = 200;   // linear_layers.0 width of the reference
inline constexpr int kNumTargets = 2;     // (speed, power)

// Width (channels) of stage `stage` (0-based): embed_dim * 2^stage.
inline int64_t StageWidth(const ArchConfig& arch, int stage) {
  return static_cast<int64_t>(arch.embed_dim()) << stage;
}
// Hidden units of a stage's MLP: floor(width * mlp_ratio), as the reference's int(dim * r).
int64_t MlpHidden(const ArchConfig& arch, int stage);

absl::StatusOr<ArchConfig> ArchFromJson(absl::string_view json);
std::string ArchToJson(const ArchConfig& arch);
std::string CanonicalKey(const ArchConfig& arch);

absl::Status ValidateStructure(const ArchConfig& arch);

// The human-designed Video Swin baseline of the reference system: patch (2,4,4), embed 96,
// depths (2,2,6,2), heads (3,6,12,24), window (8,7,7), mlp 4, resolution 224, frames 16.
ArchConfig BaselineArch();

bool ArchEqual(const ArchConfig& a, const ArchConfig& b);

}  // namespace edgeloop::arch

#endif  // EDGELOOP_ARCH_ARCH_CONFIG_H_
