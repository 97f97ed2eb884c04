// `edgeloop pipeline`: the whole edgeloop job, stage by stage, into one directory.
//
//   data      synthetic RAISE-LPBF files unless data is given (train / val / test objects)
//   supernet  weight-sharing supernet training (sandwich rule)
//   predictor latency predictor bootstrapped live on the edge
//   search    NSGA-II search with the edge in the loop; the chosen subnet exported
//   finetune  the chosen subnet trained briefly from its inherited weights
//   baseline  the human-designed Video Swin trained stand-alone, same data, same epochs
//   measure   both measured on the edge at each batch size
//   test      both evaluated on the held-out test split (other objects)
//   report    DIR/report.md
// A local edge server on loopback is started when no edge is given, and stopped at the
// end. Every stage records DIR/stages/<stage>.json when it finishes; a re-run skips
// finished stages and resumes an interrupted one (training and search resume from their
// checkpoints).
#ifndef EDGELOOP_TOOLS_PIPELINE_PIPELINE_H_
#define EDGELOOP_TOOLS_PIPELINE_PIPELINE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/pipeline/profile.h"

namespace edgeloop::pipeline {

struct PipelineConfig {
  Profile profile;
  std::vector<std::string> data_files;             // empty: generate synthetic data
  std::string train_split, val_split, test_split;  // empty: the profile's
  std::vector<std::string> edges;                  // empty: a local server on loopback
  std::string token;
  std::string out_dir;
  uint64_t seed = 1;
  int nproc = 1;               // supernet training processes started on this node
  std::string device = "cpu";  // training device: cpu or cuda
  bool quiet = false;
};

// Cancelled when interrupted (finished stages stay recorded).
absl::Status RunPipeline(const PipelineConfig& config);

}  // namespace edgeloop::pipeline

#endif  // EDGELOOP_TOOLS_PIPELINE_PIPELINE_H_
