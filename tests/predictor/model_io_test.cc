// Model files, bundles and store versions (predictor/model_io.h): documents in the format
// every earlier edgeloop wrote still load, new ones keep the same keys in the same order.
#include "predictor/model_io.h"

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/atomic_file.h"
#include "base/json.h"
#include "gtest/gtest.h"
#include "predictor/store.h"
#include "tests/test_util.h"

namespace edgeloop::predictor {
namespace {

using testing::TempDir;

// A sidecar exactly as the hand-built JSON of earlier versions printed it (17 significant
// digits, "cv": null), with the prior, the offset and the member list to fill in.
constexpr const char* kOldSidecar =
    R"({"format":"edgeloop-latency-model","format_version":1,"mode":"tabular",)"
    R"("device":"dev-1","feature_version":0,"feature_names":["a","b"],"target":"median_ms",)"
    R"("training_size":60,"cv":null,"prior":{"features":[],"coef":[%s]},"log_offset":%s,)"
    R"("residual_rounds":0,"version":0,"params":{"ensemble":2,"rounds":10,)"
    R"("eta":0.29999999999999999,"max_depth":3,"subsample":0.80000000000000004,)"
    R"("colsample_bytree":0.80000000000000004,"min_child_weight":1,"lambda":1,"max_bin":64,)"
    R"("nthread":1,"seed":5},"members":[%s],"prediction":"latency_ms = exp(prior.coef[0] + )"
    R"(sum_j prior.coef[j+1]*log1p(x[prior.features[j]]) + booster(members[0]).predict(x) + )"
    R"(log_offset); the other members give the uncertainty"})";

ModelParams Params() {
  ModelParams p;
  p.ensemble = 2;
  p.rounds = 10;
  p.eta = 0.3;
  p.max_depth = 3;
  p.seed = 5;
  return p;
}

// latency = 2 + 3a + b^2 on a grid: a tabular model with two features.
Dataset Data() {
  Dataset d;
  d.feature_names = {"a", "b"};
  for (int i = 0; i < 60; ++i) {
    const float a = static_cast<float>(i % 10), b = static_cast<float>(i / 10);
    d.x.insert(d.x.end(), {a, b});
    d.y.push_back(2 + 3 * a + b * b);
  }
  return d;
}

class ModelIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ModelMeta meta;
    meta.mode = kTabularMode;
    meta.device = "dev-1";
    // The plain form has the intercept-only prior every tabular model had before forms.
    meta.form = kFormXgb;
    auto model = LatencyModel::Fit(data_, meta, Params());
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = std::make_unique<LatencyModel>(std::move(*model));
    model_->mutable_meta()->offset = 0.125;
    auto members = model_->SerializeMembers();
    ASSERT_TRUE(members.ok()) << members.status();
    members_ = *members;
  }
  // kOldSidecar for this model, listing `member_files`.
  std::string OldSidecar(const std::vector<std::string>& member_files) const {
    std::vector<std::string> quoted;
    for (const auto& f : member_files) quoted.push_back(JsonQuote(f));
    return absl::StrFormat(kOldSidecar, absl::StrFormat("%.17g", model_->meta().prior_coef[0]),
                           "0.125", absl::StrJoin(quoted, ","));
  }
  // A bundle as earlier versions built it.
  std::string OldBundle() const {
    std::vector<std::string> quoted;
    for (const auto& m : members_) quoted.push_back(JsonQuote(m));
    return absl::StrCat("{\"meta\":", OldSidecar({}), ",\"members\":[", absl::StrJoin(quoted, ","),
                        "]}");
  }
  void ExpectSamePredictions(const LatencyModel& loaded) const {
    auto want = model_->Predict(data_.x.data(), data_.rows(), /*uncertainty=*/true);
    auto got = loaded.Predict(data_.x.data(), data_.rows(), /*uncertainty=*/true);
    ASSERT_TRUE(want.ok() && got.ok());
    for (int r = 0; r < data_.rows(); ++r) {
      EXPECT_EQ((*got)[r].ms, (*want)[r].ms) << r;
      EXPECT_EQ((*got)[r].log_std, (*want)[r].log_std) << r;
    }
  }
  const Dataset data_ = Data();
  std::unique_ptr<LatencyModel> model_;
  std::vector<std::string> members_;
};

TEST_F(ModelIoTest, OldSidecarParsesToTheSameMeta) {
  std::vector<std::string> files;
  auto meta = ModelMetaFromJson(OldSidecar({"m.json", "m.json.member1.json"}), "old", &files);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(files, (std::vector<std::string>{"m.json", "m.json.member1.json"}));
  EXPECT_EQ(meta->mode, kTabularMode);
  EXPECT_EQ(meta->device, "dev-1");
  EXPECT_EQ(meta->feature_version, 0);
  EXPECT_EQ(meta->feature_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(meta->target, "median_ms");
  EXPECT_EQ(meta->training_size, 60);
  EXPECT_FALSE(meta->has_cv);
  EXPECT_TRUE(meta->prior_features.empty());
  EXPECT_EQ(meta->prior_coef, model_->meta().prior_coef);
  EXPECT_EQ(meta->offset, 0.125);
  EXPECT_EQ(meta->residual_rounds, 0);
  EXPECT_EQ(meta->version, 0);
  EXPECT_EQ(meta->params.ensemble, 2);
  EXPECT_EQ(meta->params.rounds, 10);
  EXPECT_EQ(meta->params.eta, 0.3);
  EXPECT_EQ(meta->params.max_depth, 3);
  EXPECT_EQ(meta->params.subsample, 0.8);
  EXPECT_EQ(meta->params.colsample_bytree, 0.8);
  EXPECT_EQ(meta->params.min_child_weight, 1);
  EXPECT_EQ(meta->params.lambda, 1);
  EXPECT_EQ(meta->params.max_bin, 64);
  EXPECT_EQ(meta->params.nthread, 1);
  EXPECT_EQ(meta->params.seed, 5u);
}

TEST_F(ModelIoTest, OldCvMetricsParse) {
  std::string sidecar = OldSidecar({});
  const std::string cv = R"("cv":{"n":100,"rmspe":4.0999999999999996,"mape":3.2000000000000002,)"
                         R"("within_5":0.78000000000000003,"within_10":0.97499999999999998,)"
                         R"("spearman":0.99099999999999999,"kendall":0.93200000000000005})";
  sidecar.replace(sidecar.find("\"cv\":null"), 9, cv);
  auto meta = ModelMetaFromJson(sidecar, "old");
  ASSERT_TRUE(meta.ok()) << meta.status();
  ASSERT_TRUE(meta->has_cv);
  EXPECT_EQ(meta->cv.n, 100);
  EXPECT_EQ(meta->cv.rmspe, 4.1);
  EXPECT_EQ(meta->cv.mape, 3.2);
  EXPECT_EQ(meta->cv.within_5, 0.78);
  EXPECT_EQ(meta->cv.within_10, 0.975);
  EXPECT_EQ(meta->cv.spearman, 0.991);
  EXPECT_EQ(meta->cv.kendall, 0.932);
}

TEST_F(ModelIoTest, OldFilesLoad) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.File("m.json"), members_[0]).ok());
  ASSERT_TRUE(WriteFileAtomically(dir.File("m.json.member1.json"), members_[1]).ok());
  ASSERT_TRUE(WriteFileAtomically(dir.File("m.json.meta.json"),
                                  OldSidecar({"m.json", "m.json.member1.json"}) + "\n")
                  .ok());
  auto loaded = LoadModel(dir.File("m.json"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectSamePredictions(*loaded);
}

TEST_F(ModelIoTest, OldBundlesLoadFromTheStore) {
  auto bundled = ModelFromBundle(OldBundle());
  ASSERT_TRUE(bundled.ok()) << bundled.status();
  ExpectSamePredictions(*bundled);

  TempDir dir;
  auto store = MeasurementStore::Open(dir.File("m.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  ModelRecord record;
  record.device = "dev-1";
  record.kind = "fit";
  record.model_json = OldBundle();
  ASSERT_TRUE((*store)->SaveModel(&record).ok());
  auto loaded = LoadModelVersion(**store, "dev-1");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->meta().version, 1);
  ExpectSamePredictions(*loaded);
}

TEST_F(ModelIoTest, NewSidecarsKeepTheKeysInOrder) {
  ModelMeta meta = model_->meta();
  meta.has_cv = true;
  meta.cv.n = 100;
  meta.version = 7;
  const std::string json = ModelMetaToJson(meta, {"m.json", "m.json.member1.json"});
  size_t last = 0;
  for (const char* key :
       {"format", "format_version", "mode", "device", "feature_version", "feature_names", "target",
        "training_size", "cv", "prior", "log_offset", "residual_rounds", "version", "params",
        "members", "prediction", "form", "selection"}) {
    const size_t at = json.find(absl::StrCat("\"", key, "\":"), last);
    ASSERT_NE(at, std::string::npos) << key << " in " << json;
    last = at;
  }
  // Integers stay JSON numbers (protobuf would print int64 as strings).
  for (const char* text : {"\"training_size\":60,", "\"version\":7,", "\"seed\":5}", "\"n\":100,",
                           "\"residual_rounds\":0,", "\"log_offset\":0.125,"}) {
    EXPECT_NE(json.find(text), std::string::npos) << text << " in " << json;
  }
  auto parsed = ParseJsonObject(json, "new");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->fields().size(), 18u);
  EXPECT_EQ(JsonField(*parsed, "params")->struct_value().fields().size(), 11u);
  EXPECT_EQ(JsonField(*parsed, "cv")->struct_value().fields().size(), 7u);
  // Without cross-validation "cv" is left out; readers take that as they took null.
  EXPECT_EQ(ModelMetaToJson(model_->meta()).find("\"cv\""), std::string::npos);
}

TEST_F(ModelIoTest, EveryFieldRoundTrips) {
  ModelMeta meta = model_->meta();
  meta.mode = kArchMode;
  meta.feature_version = 3;
  meta.prior_features = {"a"};
  meta.prior_coef = {0.1 + 0.2, -1.0 / 3};
  meta.offset = -0.0625;
  meta.training_size = int64_t{1} << 40;
  meta.residual_rounds = 12;
  meta.version = 9;
  meta.has_cv = true;
  meta.cv = {50, 4.25, 3.5, 0.5, 0.875, 0.96, 0.81};
  meta.params.seed = uint64_t{1} << 50;
  meta.params.eta = 0.1;
  std::vector<std::string> files;
  auto back = ModelMetaFromJson(ModelMetaToJson(meta, {"x.json"}), "round trip", &files);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(files, std::vector<std::string>{"x.json"});
  EXPECT_EQ(back->mode, meta.mode);
  EXPECT_EQ(back->feature_version, 3);
  EXPECT_EQ(back->prior_features, meta.prior_features);
  EXPECT_EQ(back->prior_coef, meta.prior_coef);
  EXPECT_EQ(back->offset, meta.offset);
  EXPECT_EQ(back->training_size, meta.training_size);
  EXPECT_EQ(back->residual_rounds, 12);
  EXPECT_EQ(back->version, 9);
  ASSERT_TRUE(back->has_cv);
  EXPECT_EQ(back->cv.n, 50);
  EXPECT_EQ(back->cv.within_10, 0.875);
  EXPECT_EQ(back->cv.kendall, 0.81);
  EXPECT_EQ(back->params.seed, meta.params.seed);
  EXPECT_EQ(back->params.eta, 0.1);
}

TEST_F(ModelIoTest, SavedVersionsCarryTheirMeta) {
  TempDir dir;
  auto store = MeasurementStore::Open(dir.File("m.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  auto v1 = SaveModelVersion(store->get(), model_.get(), "fit");
  auto v2 = SaveModelVersion(store->get(), model_.get(), "offset");
  ASSERT_TRUE(v1.ok() && v2.ok());
  EXPECT_EQ(*v2, 2);
  EXPECT_EQ(model_->meta().version, 2);
  auto record = (*store)->LoadModel("dev-1", 1);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->kind, "fit");
  EXPECT_EQ(record->training_size, 60);
  EXPECT_EQ(record->metrics_json, "{}");
  auto meta = ModelMetaFromJson(record->meta_json, "record");
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->device, "dev-1");
  auto first = LoadModelVersion(**store, "dev-1", 1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->meta().version, 1);
  ExpectSamePredictions(*first);
  // A bundle read back and written again is the same document.
  const std::string bundle = *SerializeModelBundle(*first);
  EXPECT_EQ(*SerializeModelBundle(*ModelFromBundle(bundle)), bundle);
}

TEST_F(ModelIoTest, RefusesWhatIsNotAModel) {
  auto invalid = [](absl::string_view json) {
    return absl::IsInvalidArgument(ModelMetaFromJson(json, "doc").status());
  };
  const std::string good = OldSidecar({});
  ASSERT_TRUE(ModelMetaFromJson(good, "doc").ok());
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  EXPECT_TRUE(invalid("{oops"));
  EXPECT_TRUE(invalid("[1, 2]"));
  EXPECT_TRUE(invalid(replaced("edgeloop-latency-model", "something-else")));
  EXPECT_TRUE(invalid(replaced("\"tabular\"", "\"quantum\"")));
  EXPECT_TRUE(invalid(replaced("[\"a\",\"b\"]", "[]")));
  EXPECT_TRUE(invalid(replaced("\"training_size\":60", "\"training_size\":\"sixty\"")));
  // Found by model_meta_fuzz: counts far outside an integer were cast (undefined behaviour).
  for (const char* bad : {"1e300", "-1", "2.5"})
    EXPECT_TRUE(invalid(replaced("\"training_size\":60", absl::StrCat("\"training_size\":", bad))))
        << bad;
  EXPECT_TRUE(invalid(good.substr(0, good.find(",\"params\"")) + "}"));
  EXPECT_TRUE(absl::IsInvalidArgument(ModelFromBundle("{\"members\":[]}").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ModelFromBundle(absl::StrCat("{\"meta\":", good, ",\"members\":[]}")).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      ModelFromBundle(absl::StrCat("{\"meta\":", good, ",\"members\":[\"{}x\"]}")).status()));
}

}  // namespace
}  // namespace edgeloop::predictor
