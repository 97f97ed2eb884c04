#include "tools/pipeline/profile.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/pipeline/embedded_spaces.h"

namespace edgeloop::pipeline {

std::vector<std::string> ProfileNames() { return {"micro", "quick", "paper"}; }

absl::StatusOr<Profile> GetProfile(const std::string& name) {
  Profile p;
  p.name = name;
  if (name == "micro") {
    p.space_text = kTinySpaceText;
    p.layers = 3;
    p.lines_per_layer = 6;
    p.frame_size = 32;
    p.epochs = 2;
    p.batch_size = 4;
    p.bootstrap_samples = 8;
    p.population = 4;
    p.generations = 1;
    p.eval_samples = 8;
    p.measure_per_generation = 2;
    p.finetune_epochs = 1;
    p.baseline_resolution = 32;
    p.baseline_frames = 8;
    p.warmup_runs = 2;
    p.min_runs = 5;
    p.max_time_ms = 600;
    p.target_ci = 0.05;
    return p;
  }
  if (name == "quick") {  // the defaults of Profile
    p.space_text = kTinySpaceText;
    return p;
  }
  if (name == "paper") {
    // The reference: 2 epochs, batch 8, 16 frames, inputs up to 224 (its default space).
    p.space_text = kDefaultSpaceText;
    p.layers = 32;
    p.lines_per_layer = 64;
    p.frame_size = 64;
    p.epochs = 2;
    p.batch_size = 8;
    p.lr = 1e-3;
    p.distill_weight = 1;
    p.head_dropout = true;
    p.bootstrap_samples = 100;
    p.population = 48;
    p.generations = 20;
    p.eval_samples = 512;
    p.measure_per_generation = 8;
    p.finetune_epochs = 2;
    p.baseline_resolution = 0;
    p.baseline_frames = 0;
    p.warmup_runs = 0;  // the server's rigorous defaults
    p.min_runs = 0;
    p.max_time_ms = 0;
    p.target_ci = 0;
    p.threads = 8;
    return p;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown profile \"", name, "\"; expected one of ",
                                                 absl::StrJoin(ProfileNames(), ", ")));
}

edge_bench::MeasurementSettings MeasurementSettingsOf(const Profile& profile) {
  edge_bench::MeasurementSettings s;
  s.set_warmup_runs(profile.warmup_runs);
  s.set_min_runs(profile.min_runs);
  s.set_max_time_ms(profile.max_time_ms);
  s.set_target_rel_ci(profile.target_ci);
  return s;
}

}  // namespace edgeloop::pipeline
