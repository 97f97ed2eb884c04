// The settings of `edgeloop pipeline` profiles: how much data to generate, how long to
// train, how wide to search. A profile is data; `--set`-style flags override single fields.
//   micro  tiny space and data, a few steps: the integration test (< 2 minutes);
//   quick  the README's main job: tiny space, CPU-sized inputs, <= 15 minutes on 2 cores;
//   paper  the reference's settings: the full default space, 16 frames, resolution up to
//          224, 2 epochs; meant for a GPU node or a cluster (training through `--nproc` or
//          Slurm, see tools/slurm/).
#ifndef EDGELOOP_TOOLS_PIPELINE_PROFILE_H_
#define EDGELOOP_TOOLS_PIPELINE_PROFILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "edge_bench/protocol.pb.h"

namespace edgeloop::pipeline {

// The defaults are the quick profile's.
struct Profile {
  std::string name;
  std::string space_text;  // the search space (text format)
  // Synthetic data when none is given: three objects, for training, validation, test.
  std::vector<std::string> objects = {"C027", "C028", "C029"};
  int layers = 8;
  int lines_per_layer = 16;
  int frame_size = 48;
  std::string train_split = "C027";
  std::string val_split = "C028";
  std::string test_split = "C029";
  // Supernet training.
  // At shorter budgets the sandwich-trained supernet stays at the mean prediction (24
  // epochs of batch 4: val MSE 0.098 on held-out C028; 16 epochs of batch 8: 0.17).
  double epochs = 24;
  int batch_size = 4;
  double lr = 3e-4;
  double distill_weight = 0;
  bool head_dropout = false;
  // Predictor bootstrap.
  int bootstrap_samples = 24;
  // Search.
  int population = 12;
  int generations = 4;
  int eval_samples = 64;
  int measure_per_generation = 3;
  // Fine-tuning of the chosen subnet from its inherited weights (epochs of the training
  // split): as many as the baseline gets, which for a small subnet takes seconds.
  double finetune_epochs = 24;
  double finetune_lr = 3e-4;
  // The human-designed baseline at the profile's input size (0: its own, 224 x 16 frames).
  int baseline_resolution = 48;
  int baseline_frames = 8;
  std::vector<int> measure_batches = {1, 2};
  // Edge measurement stop rule (0: the server's defaults, up to 20 s per measurement).
  int warmup_runs = 5;
  int min_runs = 15;
  double max_time_ms = 2500;
  double target_ci = 0.02;
  int threads = 2;
};

absl::StatusOr<Profile> GetProfile(const std::string& name);
// The profile's measurement stop rule as a request's settings.
edge_bench::MeasurementSettings MeasurementSettingsOf(const Profile& profile);
std::vector<std::string> ProfileNames();

}  // namespace edgeloop::pipeline

#endif  // EDGELOOP_TOOLS_PIPELINE_PROFILE_H_
