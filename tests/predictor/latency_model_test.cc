#include "predictor/latency_model.h"

#include <cmath>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "gtest/gtest.h"
#include "predictor/features.h"
#include "predictor/model_io.h"
#include "tests/predictor/predictor_test_util.h"
#include "tests/test_util.h"

namespace edgeloop::predictor {
namespace {

using testing::TempDir;

class LatencyModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    space_ = std::make_unique<arch::Space>(DefaultSpace());
    SyntheticDevice device("test-device", 3);
    train_ = ArchDataset(SampleMeasurements(*space_, &device, 300, 1));
    test_ = ArchDataset(SampleMeasurements(*space_, &device, 200, 2));
    meta_.device = "test-device";
  }
  LatencyModel FitOrDie(const ModelParams& params = QuickParams()) {
    auto model = LatencyModel::Fit(train_, meta_, params);
    EXPECT_TRUE(model.ok()) << model.status();
    return std::move(*model);
  }
  std::unique_ptr<arch::Space> space_;
  Dataset train_, test_;
  ModelMeta meta_;
};

TEST_F(LatencyModelTest, LearnsTheSyntheticDevice) {
  LatencyModel model = FitOrDie();
  auto p = model.PredictMs(test_.x.data(), test_.rows());
  ASSERT_TRUE(p.ok()) << p.status();
  const AccuracyMetrics m = ComputeMetrics(test_.y, *p);
  EXPECT_GE(m.within_10, 0.95) << MetricsToText(m);
  EXPECT_GE(m.spearman, 0.99) << MetricsToText(m);
  auto with_std = model.Predict(test_.x.data(), 5, /*uncertainty=*/true);
  ASSERT_TRUE(with_std.ok());
  for (const auto& r : *with_std) {
    EXPECT_GT(r.log_std, 0);
    EXPECT_LT(r.log_std, 0.5);
  }
  EXPECT_EQ((*with_std)[0].ms, (*p)[0]);  // the point prediction is booster 0 either way
}

TEST_F(LatencyModelTest, CrossValidationScoresEveryRowOnce) {
  std::vector<double> oof;
  auto cv = CrossValidate(train_, meta_, QuickParams(), 4, &oof);
  ASSERT_TRUE(cv.ok()) << cv.status();
  EXPECT_EQ(cv->n, train_.rows());
  EXPECT_EQ(static_cast<int>(oof.size()), train_.rows());
  EXPECT_GE(cv->within_10, 0.9) << MetricsToText(*cv);
  EXPECT_DOUBLE_EQ(ComputeMetrics(train_.y, oof).rmspe, cv->rmspe);
  EXPECT_FALSE(CrossValidate(train_.Subset({0, 1, 2}), meta_, QuickParams(), 4).ok());
}

TEST_F(LatencyModelTest, DeterministicUnderASeed) {
  ModelParams params = QuickParams();
  LatencyModel a = FitOrDie(params), b = FitOrDie(params);
  EXPECT_EQ(*SerializeModelBundle(a), *SerializeModelBundle(b));
  params.seed = 9;
  LatencyModel c = FitOrDie(params);
  EXPECT_NE(*SerializeModelBundle(a), *SerializeModelBundle(c));
}

TEST_F(LatencyModelTest, SaveLoadGivesIdenticalPredictionsAndParams) {
  TempDir dir;
  LatencyModel model = FitOrDie();
  model.mutable_meta()->offset = 0.125;
  ASSERT_TRUE(SaveModel(model, dir.File("m.json")).ok());
  auto loaded = LoadModel(dir.File("m.json"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->meta().device, "test-device");
  EXPECT_EQ(loaded->meta().feature_version, kFeatureVersion);
  EXPECT_EQ(loaded->meta().feature_names, FeatureNames());
  EXPECT_EQ(loaded->meta().training_size, 300);
  EXPECT_EQ(loaded->meta().offset, 0.125);
  EXPECT_EQ(loaded->meta().params.rounds, QuickParams().rounds);
  EXPECT_EQ(loaded->meta().prior_coef, model.meta().prior_coef);
  auto before = model.Predict(test_.x.data(), test_.rows(), true);
  auto after = loaded->Predict(test_.x.data(), test_.rows(), true);
  for (int i = 0; i < test_.rows(); ++i) {
    EXPECT_EQ((*before)[i].ms, (*after)[i].ms);
    EXPECT_EQ((*before)[i].log_std, (*after)[i].log_std);
  }
  // Training continues identically: the hyper-parameters were re-applied after loading.
  ASSERT_TRUE(
      model.AppendResidualRounds(test_.Subset({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), 3, 0.3, 2).ok());
  ASSERT_TRUE(
      loaded->AppendResidualRounds(test_.Subset({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), 3, 0.3, 2).ok());
  EXPECT_EQ(*model.PredictMs(test_.x.data(), test_.rows()),
            *loaded->PredictMs(test_.x.data(), test_.rows()));
  // The bundle (the store's form) round-trips too.
  auto bundled = ModelFromBundle(*SerializeModelBundle(model));
  ASSERT_TRUE(bundled.ok()) << bundled.status();
  EXPECT_EQ(*model.PredictMs(test_.x.data(), test_.rows()),
            *bundled->PredictMs(test_.x.data(), test_.rows()));
  EXPECT_EQ(bundled->meta().residual_rounds, 3);
}

std::string PythonWithXgboost() {
  for (const char* py : {"/usr/bin/python3", "python3"}) {
    if (testing::RunCommand(absl::StrCat(py, " -c 'import xgboost, numpy'")).exit_code == 0)
      return py;
  }
  return "";
}

TEST_F(LatencyModelTest, PythonXgboostLoadsTheModelWithIdenticalPredictions) {
  const std::string python = PythonWithXgboost();
  if (python.empty()) GTEST_SKIP() << "no python3 with xgboost and numpy";
  TempDir dir;
  LatencyModel model = FitOrDie();
  model.mutable_meta()->offset = -0.0625;
  ASSERT_TRUE(SaveModel(model, dir.File("m.json")).ok());
  std::ofstream x(dir.File("x.csv"));
  x.precision(9);
  for (int r = 0; r < test_.rows(); ++r)
    for (int c = 0; c < test_.cols(); ++c)
      x << test_.row(r)[c] << (c + 1 < test_.cols() ? "," : "\n");
  x.close();
  auto cpp = model.PredictMs(test_.x.data(), test_.rows());
  auto margins = model.MemberMargins(test_.x.data(), test_.rows());
  std::ofstream expect(dir.File("expect.csv"));
  expect.precision(17);
  for (int r = 0; r < test_.rows(); ++r) expect << (*margins)[0][r] << "," << (*cpp)[r] << "\n";
  expect.close();
  // The sidecar's documented formula, evaluated by Python from the files alone.
  const std::string script = R"py(
import json, sys, numpy as np, xgboost as xgb
d = sys.argv[1]
meta = json.load(open(d + "/m.json.meta.json"))
X = np.loadtxt(d + "/x.csv", delimiter=",", dtype=np.float32, ndmin=2)
exp = np.loadtxt(d + "/expect.csv", delimiter=",", ndmin=2)
b = xgb.Booster(model_file=d + "/" + meta["members"][0])
out = b.predict(xgb.DMatrix(X, missing=np.nan))
assert np.array_equal(out.astype(np.float32), exp[:, 0].astype(np.float32)), np.abs(out - exp[:, 0]).max()
idx = [meta["feature_names"].index(f) for f in meta["prior"]["features"]]
c = meta["prior"]["coef"]
prior = c[0] + sum(c[j + 1] * np.log1p(X[:, i].astype(np.float64)) for j, i in enumerate(idx))
ms = np.exp(prior + out.astype(np.float64) + meta["log_offset"])
rel = np.abs(ms - exp[:, 1]) / exp[:, 1]
assert rel.max() < 1e-6, rel.max()
print("OK", len(out))
)py";
  ASSERT_TRUE(WriteFileAtomically(dir.File("check.py"), script).ok());
  const auto r = testing::RunCommand(python + " " + dir.File("check.py") + " " + dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("OK 200"), std::string::npos) << r.out;
}

TEST_F(LatencyModelTest, BadModelsAreClearErrors) {
  TempDir dir;
  LatencyModel model = FitOrDie();
  ASSERT_TRUE(SaveModel(model, dir.File("m.json")).ok());
  // Another device.
  EXPECT_TRUE(absl::IsFailedPrecondition(model.CheckCompatible("other-device")));
  EXPECT_TRUE(model.CheckCompatible("test-device").ok());
  // Another feature version.
  const std::string sidecar = *ReadFile(dir.File("m.json.meta.json"));
  ASSERT_TRUE(WriteFileAtomically(dir.File("m.json.meta.json"),
                                  absl::StrReplaceAll(sidecar, {{"\"feature_version\":1",
                                                                 "\"feature_version\":99"}}))
                  .ok());
  auto old = LoadModel(dir.File("m.json"));
  ASSERT_TRUE(old.ok()) << old.status();
  auto st = old->CheckCompatible("");
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_NE(st.message().find("feature version 99"), std::string::npos) << st;
  EXPECT_FALSE(old->PredictArchitectures({{arch::BaselineArch(), 1}}).ok());
  ASSERT_TRUE(WriteFileAtomically(dir.File("m.json.meta.json"), sidecar).ok());
  // A corrupt booster file.
  ASSERT_TRUE(WriteFileAtomically(dir.File("m.json.member1.json"), "{\"learner\": garbage").ok());
  auto corrupt = LoadModel(dir.File("m.json"));
  ASSERT_FALSE(corrupt.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(corrupt.status())) << corrupt.status();
  // A corrupt sidecar, a missing sidecar, a missing model.
  ASSERT_TRUE(WriteFileAtomically(dir.File("m.json.meta.json"), "{oops").ok());
  EXPECT_TRUE(absl::IsInvalidArgument(LoadModel(dir.File("m.json")).status()));
  std::remove(dir.File("m.json.meta.json").c_str());
  auto no_sidecar = LoadModel(dir.File("m.json"));
  EXPECT_TRUE(absl::IsInvalidArgument(no_sidecar.status())) << no_sidecar.status();
  EXPECT_TRUE(absl::IsNotFound(LoadModel(dir.File("none.json")).status()));
}

TEST_F(LatencyModelTest, EmptyOrInvalidTrainingSetsAreRejected) {
  EXPECT_TRUE(
      absl::IsInvalidArgument(LatencyModel::Fit(train_.Subset({}), meta_, QuickParams()).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      LatencyModel::Fit(train_.Subset({0}), meta_, QuickParams()).status()));
  Dataset bad = train_.Subset({0, 1, 2});
  bad.y[1] = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(LatencyModel::Fit(bad, meta_, QuickParams()).status()));
  Dataset renamed = train_.Subset({0, 1, 2});
  renamed.feature_names[0] = "something_else";
  EXPECT_TRUE(absl::IsInvalidArgument(LatencyModel::Fit(renamed, meta_, QuickParams()).status()));
}

}  // namespace
}  // namespace edgeloop::predictor
