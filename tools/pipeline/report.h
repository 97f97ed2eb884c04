// DIR/report.md of a pipeline run: chosen subnet vs the human-designed baseline (size,
// measured latency, test loss, the ratios next to the reference's ~8.8x and ~1.35x), the
// Pareto front, the predictor's accuracy on the search's live measurements, the cost of
// the search against training every candidate, the stage timings and the edge device.
#ifndef EDGELOOP_TOOLS_PIPELINE_REPORT_H_
#define EDGELOOP_TOOLS_PIPELINE_REPORT_H_

#include <string>

#include "absl/status/status.h"
#include "tools/pipeline/stage_record.pb.h"

namespace edgeloop::pipeline {

inline constexpr double kReferenceLatencyRatio = 8.8;  // PAPER_FACTS.md
inline constexpr double kReferenceLossRatio = 1.35;

struct ReportInputs {
  std::string out_dir;
  std::string profile;
  // The stage records (DIR/stages/<stage>.json); the search's state is read from
  // DIR/search/state.json.
  DataStage data;
  TrainStage supernet, finetune, baseline;
  PredictorStage predictor;
  SearchStage search;
  MeasureStage measure;
  TestStage test;
  double this_run_seconds = 0;
};

absl::Status WriteReport(const ReportInputs& inputs);

}  // namespace edgeloop::pipeline

#endif  // EDGELOOP_TOOLS_PIPELINE_REPORT_H_
