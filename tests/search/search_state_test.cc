#include "search/search_state.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "arch/space.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "base/proto_json.h"
#include "gtest/gtest.h"
#include "search/candidate.h"
#include "tests/test_util.h"

namespace edgeloop::search {
namespace {

using edgeloop::testing::TempDir;

// Doubles compared bit for bit (NaN equals NaN).
bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof(double)) == 0; }

void ExpectSameCandidate(const Candidate& a, const Candidate& b) {
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.params, b.params);
  EXPECT_EQ(a.flops, b.flops);
  EXPECT_EQ(a.generation, b.generation);
  const double Candidate::*fields[] = {
      &Candidate::val_mse,           &Candidate::rmse_speed_mm_s,
      &Candidate::rmse_power_w,      &Candidate::predicted_ms,
      &Candidate::predicted_log_std, &Candidate::measured_ms,
      &Candidate::measured_p90_ms,   &Candidate::predicted_before_measurement_ms};
  for (auto field : fields) {
    EXPECT_TRUE(SameBits(a.*field, b.*field)) << a.key << ": " << a.*field << " vs " << b.*field;
  }
}

SearchState SampleState() {
  const arch::Space space =
      arch::Space::FromFile(edgeloop::testing::SourcePath("supernet/spaces/tiny.textproto"))
          .value();
  SearchState state;
  state.settings = {"space 1 \"quoted\"\npath", "weighted", std::numeric_limits<uint64_t>::max()};
  state.generation = 3;
  state.finished = true;
  state.rng = {0, 1, 0x9e3779b97f4a7c15ull, std::numeric_limits<uint64_t>::max()};
  state.reference_point = {0.1 + 0.2, 1e-300};
  Candidate scored = MakeCandidate(space.Min(), 0);
  scored.val_mse = 0.1 + 0.7;
  scored.rmse_speed_mm_s = 5e-324;  // the smallest denormal
  scored.rmse_power_w = 1.7976931348623157e308;
  scored.predicted_ms = 2.0 / 3.0;
  scored.predicted_log_std = 0.125;
  scored.measured_ms = 0.94;
  scored.measured_p90_ms = 1.02;
  scored.predicted_before_measurement_ms = 1.0 / 7.0;
  Candidate unscored = MakeCandidate(space.Max(), 2);  // NaN everywhere but the cost
  state.archive = {scored, unscored};
  state.population = {unscored.key, scored.key};
  state.es_parent = scored.key;
  state.baseline = MakeCandidate(space.Max(), 0);
  state.baseline->val_mse = 0.25;
  state.latency_state = "{\"model\":\"...\",\n\"bias\":-0.5}";
  return state;
}

TEST(SearchStateTest, RoundTripIsExact) {
  const SearchState saved = SampleState();
  TempDir dir;
  ASSERT_TRUE(SaveSearchState(dir.path(), saved).ok());
  ASSERT_TRUE(HasSearchState(dir.path()));
  absl::StatusOr<SearchState> loaded = LoadSearchState(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->settings.identity, saved.settings.identity);
  EXPECT_EQ(loaded->settings.strategy, saved.settings.strategy);
  EXPECT_EQ(loaded->settings.seed, saved.settings.seed);
  EXPECT_EQ(loaded->generation, 3);
  EXPECT_TRUE(loaded->finished);
  EXPECT_EQ(loaded->rng, saved.rng);
  EXPECT_TRUE(SameBits(loaded->reference_point[0], saved.reference_point[0]));
  EXPECT_TRUE(SameBits(loaded->reference_point[1], saved.reference_point[1]));
  ASSERT_EQ(loaded->archive.size(), 2u);
  for (size_t i = 0; i < saved.archive.size(); ++i) {
    ExpectSameCandidate(loaded->archive[i], saved.archive[i]);
  }
  EXPECT_EQ(loaded->population, saved.population);
  EXPECT_EQ(loaded->es_parent, saved.es_parent);
  ASSERT_TRUE(loaded->baseline.has_value());
  ExpectSameCandidate(*loaded->baseline, *saved.baseline);
  EXPECT_EQ(loaded->latency_state, saved.latency_state);
  // Saving what was loaded writes the same file.
  EXPECT_EQ(SearchStateToJson(*loaded).value(), SearchStateToJson(saved).value());
}

TEST(SearchStateTest, KeysAndValuesReadAsBefore) {
  const std::string text = SearchStateToJson(SampleState()).value();
  absl::StatusOr<google::protobuf::Struct> state = ParseJsonObject(text, "state");
  ASSERT_TRUE(state.ok()) << state.status();
  for (const char* key :
       {"format", "identity", "strategy", "seed", "generation", "finished", "rng",
        "reference_point", "population", "es_parent", "baseline", "latency_state", "archive"}) {
    EXPECT_NE(JsonField(*state, key), nullptr) << key;
  }
  EXPECT_EQ(JsonString(*state, "format", "").value(), "edgeloop-search-v1");
  // Unknown values are null, counts are numbers: what scripts and the report read.
  ASSERT_NE(JsonField(*state, "archive"), nullptr);
  const auto& unscored = JsonField(*state, "archive")->list_value().values(1).struct_value();
  for (const char* key : {"val_mse", "measured_ms", "verified", "arch"}) {
    ASSERT_NE(JsonField(unscored, key), nullptr) << key;
  }
  EXPECT_EQ(JsonField(unscored, "val_mse")->kind_case(), google::protobuf::Value::kNullValue);
  EXPECT_EQ(JsonField(unscored, "measured_ms")->kind_case(), google::protobuf::Value::kNullValue);
  EXPECT_GT(JsonNumber(unscored, "flops", "").value_or(0), 0);
  EXPECT_GT(JsonNumber(unscored, "params", "").value_or(0), 0);
  EXPECT_FALSE(JsonField(unscored, "verified")->bool_value());
  EXPECT_TRUE(JsonField(unscored, "arch")->has_struct_value());
  ASSERT_NE(JsonField(*state, "rng"), nullptr);
  EXPECT_EQ(JsonField(*state, "rng")->list_value().values(3).string_value(),
            "18446744073709551615");
}

// A state.json as the search wrote it before its records were Protobuf messages (built by
// hand: the seed a number, unknown values and a missing baseline null, one archive entry
// per line).
constexpr char kEarlierState[] =
    R"({"format":"edgeloop-search-v1","identity":"space 42 checkpoint run/ckpt.pt","strategy":"pareto","seed":7,"generation":2,"finished":false,"rng":["11","22","33","18446744073709551614"],"reference_point":[0.11000000000000001,12.5],"population":["p2.4.4-e12-d1.1.1.1-h3.3.3.3-w4.4.4-m1-r32-f8","p4.4.4-e24-d2.2.1.1-h3.6.6.6-w4.4.4-m2-r48-f8"],"es_parent":"","baseline":null,"latency_state":"{\"bias\":0.5}","archive":[{"key":"p2.4.4-e12-d1.1.1.1-h3.3.3.3-w4.4.4-m1-r32-f8","arch":{"patch_size":[2,4,4],"embed_dim":12,"depths":[1,1,1,1],"num_heads":[3,3,3,3],"window_size":[4,4,4],"mlp_ratio":1,"resolution":32,"frames":8},"params":61234,"flops":1234567,"generation":0,"val_mse":0.098500000000000004,"rmse_speed_mm_s":301.5,"rmse_power_w":55.799999999999997,"predicted_ms":0.93999999999999995,"predicted_log_std":0.050000000000000003,"measured_ms":0.94999999999999996,"measured_p90_ms":1.02,"predicted_before_measurement_ms":0.90000000000000002,"verified":true},
{"key":"p4.4.4-e24-d2.2.1.1-h3.6.6.6-w4.4.4-m2-r48-f8","arch":{"patch_size":[4,4,4],"embed_dim":24,"depths":[2,2,1,1],"num_heads":[3,6,6,6],"window_size":[4,4,4],"mlp_ratio":2,"resolution":48,"frames":8},"params":225623,"flops":43728169488,"generation":1,"val_mse":0.10150000000000001,"rmse_speed_mm_s":null,"rmse_power_w":null,"predicted_ms":2.2799999999999998,"predicted_log_std":null,"measured_ms":null,"measured_p90_ms":null,"predicted_before_measurement_ms":null,"verified":false}]}
)";

TEST(SearchStateTest, LoadsStateFilesOfEarlierVersions) {
  absl::StatusOr<SearchState> state = SearchStateFromJson(kEarlierState, "earlier");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->settings.identity, "space 42 checkpoint run/ckpt.pt");
  EXPECT_EQ(state->settings.strategy, "pareto");
  EXPECT_EQ(state->settings.seed, 7u);
  EXPECT_EQ(state->generation, 2);
  EXPECT_FALSE(state->finished);
  EXPECT_EQ(state->rng, (std::vector<uint64_t>{11, 22, 33, 18446744073709551614ull}));
  EXPECT_EQ(state->reference_point[0], 0.11000000000000001);
  EXPECT_EQ(state->reference_point[1], 12.5);
  EXPECT_EQ(state->es_parent, "");
  EXPECT_FALSE(state->baseline.has_value());
  EXPECT_EQ(state->latency_state, "{\"bias\":0.5}");
  ASSERT_EQ(state->archive.size(), 2u);
  const Candidate& measured = state->archive[0];
  EXPECT_EQ(measured.key, "p2.4.4-e12-d1.1.1.1-h3.3.3.3-w4.4.4-m1-r32-f8");
  EXPECT_EQ(measured.val_mse, 0.098500000000000004);
  EXPECT_EQ(measured.predicted_ms, 0.93999999999999995);
  EXPECT_EQ(measured.measured_ms, 0.94999999999999996);
  EXPECT_EQ(measured.predicted_before_measurement_ms, 0.90000000000000002);
  EXPECT_TRUE(measured.measured());
  const Candidate& predicted = state->archive[1];
  EXPECT_EQ(predicted.generation, 1);
  EXPECT_EQ(predicted.val_mse, 0.10150000000000001);
  EXPECT_TRUE(std::isnan(predicted.rmse_speed_mm_s));
  EXPECT_TRUE(std::isnan(predicted.measured_ms));
  EXPECT_EQ(predicted.predicted_log_std, 0);  // null spread reads as none
  EXPECT_FALSE(predicted.measured());
  EXPECT_EQ(state->population, (std::vector<std::string>{measured.key, predicted.key}));
}

TEST(SearchStateTest, ResumeChecksSettingsAndDropsLaterLogLines) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.File("state.json"), kEarlierState).ok());
  // Lines as earlier versions wrote them: generations 0-3 (3 ran after the save), a
  // verification round of the unfinished search and a torn last line.
  const std::string log =
      R"({"generation":0,"strategy":"pareto","evaluated":2,"new":2,"hypervolume":0.5,"front_size":1,"front_measured":0,"best_val_mse":0.1,"best_latency_ms":1,"measured_total":0,"measured_new":0,"predictor_mape_new_pct":null,"predictor_within10_new":null,"edge_errors":0,"edge_connected":true,"pending":0,"time_s":{"accuracy":1,"predict":0.5,"edge":0,"total":1.5}})"
      "\n"
      R"({"generation":1,"strategy":"pareto","evaluated":2,"new":0,"hypervolume":null,"time_s":{"accuracy":0,"predict":0,"edge":0,"total":0}})"
      "\n"
      R"({"generation":2,"strategy":"pareto","evaluated":2,"new":0})"
      "\n"
      R"({"generation":3,"strategy":"pareto","evaluated":2,"new":0})"
      "\n"
      R"({"phase":"verify","round":0,"measured_new":1,"edge_connected":true,"pending":0,"hypervolume":0.5,"edge_s":0.25})"
      "\n"
      R"({"generation":4,"strat)";
  ASSERT_TRUE(WriteFileAtomically(dir.File("log.jsonl"), log).ok());

  SearchSettings other = {"another run", "pareto", 7};
  absl::StatusOr<SearchState> refused = ResumeSearchState(dir.path(), other);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "other settings"));
  EXPECT_EQ(ReadFile(dir.File("log.jsonl")).value(), log);  // untouched when refused
  other = {"space 42 checkpoint run/ckpt.pt", "pareto", 8};
  EXPECT_FALSE(ResumeSearchState(dir.path(), other).ok());

  absl::StatusOr<SearchState> resumed =
      ResumeSearchState(dir.path(), {"space 42 checkpoint run/ckpt.pt", "pareto", 7});
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  std::vector<std::string> kept =
      absl::StrSplit(ReadFile(dir.File("log.jsonl")).value(), '\n', absl::SkipEmpty());
  ASSERT_EQ(kept.size(), 3u);
  for (int g = 0; g < 3; ++g) {
    EXPECT_TRUE(absl::StartsWith(kept[g], absl::StrCat("{\"generation\":", g, ","))) << kept[g];
  }
}

TEST(SearchStateTest, VerificationLinesOfAFinishedSearchStay) {
  TempDir dir;
  SearchState state = SampleState();
  state.settings.identity = "id";
  ASSERT_TRUE(SaveSearchState(dir.path(), state).ok());
  VerifyLogRecord verify;
  verify.set_phase("verify");
  verify.set_round(0);
  GenerationLogRecord generation;
  generation.set_generation(3);
  ASSERT_TRUE(AppendSearchLog(dir.path(), generation).ok());
  ASSERT_TRUE(AppendSearchLog(dir.path(), verify).ok());
  ASSERT_TRUE(ResumeSearchState(dir.path(), state.settings).ok());
  std::vector<std::string> kept =
      absl::StrSplit(ReadFile(dir.File("log.jsonl")).value(), '\n', absl::SkipEmpty());
  EXPECT_EQ(kept.size(), 2u);
  RemoveSearchLog(dir.path());
  EXPECT_FALSE(ReadFile(dir.File("log.jsonl")).ok());
}

TEST(SearchStateTest, LogLinesKeepTheirKeys) {
  TempDir dir;
  GenerationLogRecord line;
  line.set_generation(4);
  line.set_strategy("pareto");
  line.set_new_(3);
  *line.mutable_hypervolume() = NumberOrNull(0.5);
  *line.mutable_predictor_mape_new_pct() = NumberOrNull(std::nan(""));
  line.mutable_time_s()->set_total(1.25);
  ASSERT_TRUE(AppendSearchLog(dir.path(), line).ok());
  VerifyLogRecord verify;
  verify.set_phase("verify");
  *verify.mutable_hypervolume() = NumberOrNull(std::numeric_limits<double>::infinity());
  ASSERT_TRUE(AppendSearchLog(dir.path(), verify).ok());
  std::vector<std::string> lines =
      absl::StrSplit(ReadFile(dir.File("log.jsonl")).value(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  for (const char* needle : {"\"generation\":4", "\"new\":3", "\"measured_new\":0",
                             "\"edge_connected\":false", "\"predictor_mape_new_pct\":null",
                             "\"hypervolume\":0.5", "\"time_s\":{", "\"total\":1.25"}) {
    EXPECT_TRUE(absl::StrContains(lines[0], needle)) << needle << " in " << lines[0];
  }
  EXPECT_TRUE(absl::StrContains(lines[1], "\"phase\":\"verify\"")) << lines[1];
  EXPECT_TRUE(absl::StrContains(lines[1], "\"hypervolume\":null")) << lines[1];
  EXPECT_FALSE(absl::StrContains(lines[1], "\"generation\"")) << lines[1];
}

TEST(SearchStateTest, MalformedStatesAreRefused) {
  std::string text = kEarlierState;
  EXPECT_FALSE(SearchStateFromJson("{not json", "s").ok());
  EXPECT_FALSE(SearchStateFromJson("{}", "s").ok());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string changed = text;
    const size_t at = changed.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return changed.replace(at, from.size(), to);
  };
  const std::pair<std::string, std::string> breaks[] = {
      {"edgeloop-search-v1", "edgeloop-search-v0"},
      {R"(["11","22","33",)", R"(["22","33",)"},
      {"[0.11000000000000001,12.5]", "[0.11]"},
      {R"("population":["p2.4.4-e12)", R"("population":["p2.4.4-e99)"},
      {R"("depths":[1,1,1,1])", R"("depths":[1,1,1])"},
      {R"("strategy":"pareto",)", ""},
  };
  for (const auto& [from, to] : breaks) {
    absl::StatusOr<SearchState> state = SearchStateFromJson(with(from, to), "s");
    EXPECT_EQ(state.status().code(), absl::StatusCode::kInvalidArgument) << from << " -> " << to;
  }
}

TEST(CandidateRecordTest, JsonHasTheCandidateKeys) {
  const SearchState state = SampleState();
  const std::string json = CandidateToJson(state.archive[1]).value();
  absl::StatusOr<google::protobuf::Struct> c = ParseJsonObject(json, "candidate");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(JsonString(*c, "key", "").value(), state.archive[1].key);
  EXPECT_EQ(JsonNumber(*c, "flops", "").value(), static_cast<double>(state.archive[1].flops));
  EXPECT_EQ(JsonNumber(*c, "generation", "").value(), 2);
  EXPECT_EQ(JsonField(*c, "predicted_ms")->kind_case(), google::protobuf::Value::kNullValue);
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace edgeloop::search
