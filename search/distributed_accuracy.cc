#include "search/distributed_accuracy.h"

#include <cmath>
#include <cstring>
#include <limits>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "arch/arch_config.h"
#include "dist/process_group.h"

namespace edgeloop::search {

absl::StatusOr<std::vector<ArchConfig>> DistributedAccuracy::Exchange(
    const std::vector<ArchConfig>& archs, bool shutdown) {
  std::string text;
  if (group_->is_primary()) {
    std::vector<std::string> lines;
    for (const ArchConfig& a : archs) lines.push_back(arch::ArchToJson(a));
    text = absl::StrJoin(lines, "\n");
  }
  torch::Tensor header = torch::tensor({shutdown ? int64_t{-1} : static_cast<int64_t>(archs.size()),
                                        static_cast<int64_t>(text.size())},
                                       torch::kInt64);
  if (absl::Status s = group_->Broadcast({header}); !s.ok()) return s;
  const int64_t n = header[0].item<int64_t>();
  const int64_t bytes = header[1].item<int64_t>();
  if (n < 0) return absl::CancelledError("shut down by rank 0");
  torch::Tensor payload = torch::zeros({std::max<int64_t>(bytes, 1)}, torch::kUInt8);
  if (group_->is_primary() && bytes > 0) std::memcpy(payload.data_ptr(), text.data(), text.size());
  if (absl::Status s = group_->Broadcast({payload}); !s.ok()) return s;
  if (group_->is_primary()) return archs;
  std::vector<ArchConfig> out;
  const std::string received(static_cast<const char*>(payload.data_ptr()),
                             static_cast<size_t>(bytes));
  for (absl::string_view line : absl::StrSplit(received, '\n', absl::SkipEmpty())) {
    absl::StatusOr<ArchConfig> arch = arch::ArchFromJson(line);
    if (!arch.ok()) return arch.status();
    out.push_back(*arch);
  }
  if (static_cast<int64_t>(out.size()) != n) {
    return absl::InternalError(
        absl::StrCat("received ", out.size(), " architectures, expected ", n));
  }
  return out;
}

absl::StatusOr<std::vector<AccuracyScore>> DistributedAccuracy::ScoreShare(
    const std::vector<ArchConfig>& archs) {
  const int world = group_->world_size(), rank = group_->rank();
  std::vector<ArchConfig> mine;
  for (size_t i = rank; i < archs.size(); i += world) mine.push_back(archs[i]);
  torch::Tensor scores = torch::zeros({static_cast<int64_t>(archs.size()), 3}, torch::kFloat64);
  absl::Status local_status = absl::OkStatus();
  if (!mine.empty()) {
    absl::StatusOr<std::vector<AccuracyScore>> local = local_->Evaluate(mine);
    if (local.ok()) {
      auto a = scores.accessor<double, 2>();
      for (size_t k = 0; k < mine.size(); ++k) {
        const size_t i = rank + k * world;
        a[i][0] = (*local)[k].mse;
        a[i][1] = (*local)[k].rmse_speed_mm_s;
        a[i][2] = (*local)[k].rmse_power_w;
      }
    } else {
      local_status = local.status();
      scores.fill_(
          std::numeric_limits<double>::quiet_NaN());  // poisons the sum: all ranks see the failure
    }
  }
  if (absl::Status s = group_->AllReduceSum({scores}); !s.ok()) return s;
  if (!local_status.ok()) return local_status;
  std::vector<AccuracyScore> out(archs.size());
  auto a = scores.accessor<double, 2>();
  for (size_t i = 0; i < archs.size(); ++i) {
    if (std::isnan(a[i][0])) {
      return absl::InternalError(absl::StrCat("rank ", i % world, " failed to score its share"));
    }
    out[i] = {a[i][0], a[i][1], a[i][2]};
  }
  return out;
}

absl::StatusOr<std::vector<AccuracyScore>> DistributedAccuracy::Evaluate(
    const std::vector<ArchConfig>& archs) {
  if (!group_->is_primary()) return absl::FailedPreconditionError("only rank 0 drives evaluations");
  if (archs.empty()) return std::vector<AccuracyScore>{};
  absl::StatusOr<std::vector<ArchConfig>> shared = Exchange(archs, false);
  if (!shared.ok()) return shared.status();
  return ScoreShare(*shared);
}

absl::Status DistributedAccuracy::Serve() {
  while (true) {
    absl::StatusOr<std::vector<ArchConfig>> archs = Exchange({}, false);
    if (absl::IsCancelled(archs.status())) return absl::OkStatus();
    if (!archs.ok()) return archs.status();
    absl::StatusOr<std::vector<AccuracyScore>> scores = ScoreShare(*archs);
    // A failed evaluation (here or on another rank) is rank 0's to report; only a broken
    // process group ends the service.
    if (!scores.ok() && !absl::IsInternal(scores.status()) && !absl::IsCancelled(scores.status()) &&
        !absl::IsInvalidArgument(scores.status())) {
      return scores.status();
    }
  }
}

absl::Status DistributedAccuracy::Shutdown() {
  absl::StatusOr<std::vector<ArchConfig>> done = Exchange({}, true);
  return absl::IsCancelled(done.status()) ? absl::OkStatus() : done.status();
}

}  // namespace edgeloop::search
