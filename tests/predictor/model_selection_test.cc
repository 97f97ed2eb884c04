// Model-form selection (latency_model.h SelectForm) and the ridge solver under it: on each
// of three tables built so that one form's structure fits it, that form must win.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "base/rng.h"
#include "gtest/gtest.h"
#include "predictor/latency_model.h"
#include "predictor/model_io.h"
#include "predictor/ridge.h"
#include "tests/test_util.h"

namespace edgeloop::predictor {
namespace {

Dataset MakeTable(int rows, int cols, uint64_t seed, const std::function<void(Rng*, float*)>& row,
                  const std::function<double(const float*)>& latency) {
  Dataset d;
  for (int j = 0; j < cols; ++j) d.feature_names.push_back(absl::StrCat("f", j));
  Rng rng(seed);
  std::vector<float> x(cols);
  for (int r = 0; r < rows; ++r) {
    row(&rng, x.data());
    d.x.insert(d.x.end(), x.begin(), x.end());
    d.y.push_back(latency(x.data()));
  }
  return d;
}

// A layer-wise lookup table: 12 layers with one of 5 operators each (one-hot), latency the
// sum of the chosen operators' costs.
Dataset AdditiveTable(int rows) {
  Rng table_rng(7);
  std::vector<double> cost(12 * 5);
  for (double& c : cost) c = 0.2 + 3 * table_rng.UniformDouble();
  return MakeTable(
      rows, 12 * 5, 1,
      [](Rng* rng, float* x) {
        for (int l = 0; l < 12; ++l)
          for (int o = 0; o < 5; ++o) x[l * 5 + o] = 0;
        for (int l = 0; l < 12; ++l) x[l * 5 + rng->Uniform(5)] = 1;
      },
      [cost](const float* x) {
        double y = 0.5;
        for (size_t j = 0; j < cost.size(); ++j) y += cost[j] * x[j];
        return y;
      });
}

// A power law of three sizes spanning three decades.
Dataset PowerLawTable(int rows) {
  return MakeTable(
      rows, 3, 2,
      [](Rng* rng, float* x) {
        for (int j = 0; j < 3; ++j) x[j] = std::pow(10.0, 3 * rng->UniformDouble());
      },
      [](const float* x) {
        return 0.01 * std::pow(1 + x[0], 0.9) * std::pow(1 + x[1], 0.5) * std::pow(1 + x[2], 0.3);
      });
}

// A 5-way interaction (parity of five thresholds): no tree of depth < 5 sees any of it.
Dataset ParityTable(int rows) {
  return MakeTable(
      rows, 5, 3,
      [](Rng* rng, float* x) {
        for (int j = 0; j < 5; ++j) x[j] = static_cast<float>(rng->UniformDouble());
      },
      [](const float* x) {
        int parity = 0;
        for (int j = 0; j < 5; ++j) parity ^= x[j] > 0.5f ? 1 : 0;
        return std::exp(0.6 * parity);
      });
}

std::string Select(const Dataset& data, std::vector<FormScore>* scores) {
  ModelMeta meta;
  meta.mode = kTabularMode;
  auto form = SelectForm(data, meta, ModelParams(), 4, {}, /*keep_params=*/false, scores);
  EXPECT_TRUE(form.ok()) << form.status();
  return form.value_or("");
}

std::string Describe(const std::vector<FormScore>& scores) {
  std::string s;
  for (const auto& f : scores) absl::StrAppend(&s, f.form, ": ", MetricsToText(f.cv), "\n");
  return s;
}

TEST(ModelSelectionTest, AdditiveTableChoosesTheAdditiveForm) {
  std::vector<FormScore> scores;
  EXPECT_EQ(Select(AdditiveTable(300), &scores), kFormAdditiveXgb) << Describe(scores);
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_GE(scores[2].cv.within_10, 0.99) << Describe(scores);
}

TEST(ModelSelectionTest, PowerLawChoosesTheLogLinearPrior) {
  std::vector<FormScore> scores;
  EXPECT_EQ(Select(PowerLawTable(300), &scores), kFormPriorXgb) << Describe(scores);
}

TEST(ModelSelectionTest, DeepInteractionChoosesPlainDeepXgboost) {
  std::vector<FormScore> scores;
  EXPECT_EQ(Select(ParityTable(400), &scores), kFormXgb) << Describe(scores);
}

TEST(ModelSelectionTest, TheChosenFormAndCandidatesRoundTripThroughTheModelFile) {
  const Dataset data = AdditiveTable(200);
  ModelMeta meta;
  meta.mode = kTabularMode;
  meta.form = kFormAdditiveXgb;
  meta.selection = {{kFormXgb, {}}, {kFormAdditiveXgb, {}}};
  meta.selection[1].cv.within_10 = 0.97;
  auto model = LatencyModel::Fit(data, meta, FormDefaultParams(kFormAdditiveXgb, ModelParams()));
  ASSERT_TRUE(model.ok()) << model.status();
  testing::TempDir dir;
  ASSERT_TRUE(SaveModel(*model, dir.File("m.json")).ok());
  auto loaded = LoadModel(dir.File("m.json"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->meta().form, kFormAdditiveXgb);
  ASSERT_EQ(loaded->meta().selection.size(), 2u);
  EXPECT_DOUBLE_EQ(loaded->meta().selection[1].cv.within_10, 0.97);
  auto a = model->PredictMs(data.x.data(), data.rows());
  auto b = loaded->PredictMs(data.x.data(), data.rows());
  ASSERT_TRUE(a.ok() && b.ok());
  for (int i = 0; i < data.rows(); ++i) EXPECT_NEAR((*a)[i], (*b)[i], 1e-9 * (*a)[i]);
}

TEST(ModelSelectionTest, UnknownFormIsRefused) {
  ModelMeta meta;
  meta.mode = kTabularMode;
  meta.form = "lstm";
  EXPECT_EQ(LatencyModel::Fit(PowerLawTable(20), meta, ModelParams()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(
      SelectForm(PowerLawTable(20), meta, ModelParams(), 2, {"lstm"}, false, nullptr).ok());
}

// Ridge: the closed-form leave-one-out residuals equal refits without the row, in both the
// dual (rows < columns) and the primal form.
TEST(RidgeTest, LeaveOneOutMatchesRefitsInBothForms) {
  for (int rows : {6, 40}) {
    const int cols = 10;
    Rng rng(rows);
    std::vector<double> z(rows * cols), y(rows), w(rows), pen(cols);
    for (double& v : z) v = rng.UniformDouble() - 0.5;
    for (int i = 0; i < rows; ++i) {
      y[i] = 1 + z[i * cols] * 2 - z[i * cols + 3] + 0.1 * rng.UniformDouble();
      w[i] = 0.5 + rng.UniformDouble();
    }
    for (int j = 0; j < cols; ++j) pen[j] = 0.05 * (1 + j);
    auto fit = FitRidge(z, y, w, pen);
    ASSERT_TRUE(fit.ok()) << fit.status();
    for (int out = 0; out < rows; ++out) {
      std::vector<double> z2, y2, w2;
      for (int i = 0; i < rows; ++i) {
        if (i == out) continue;
        z2.insert(z2.end(), z.begin() + i * cols, z.begin() + (i + 1) * cols);
        y2.push_back(y[i]);
        w2.push_back(w[i]);
      }
      auto refit = FitRidge(z2, y2, w2, pen);
      ASSERT_TRUE(refit.ok());
      EXPECT_NEAR(fit->loo[out], y[out] - refit->Predict(&z[out * cols]), 1e-5)
          << rows << " rows, row " << out;
    }
  }
}

TEST(RidgeTest, BadInputIsRefused) {
  EXPECT_FALSE(FitRidge({1}, {1}, {}, {1}).ok());             // one row
  EXPECT_FALSE(FitRidge({1, 2}, {1, 2}, {}, {0}).ok());       // zero penalty
  EXPECT_FALSE(FitRidge({1, 2, 3}, {1, 2}, {}, {1}).ok());    // sizes
  EXPECT_FALSE(FitRidge({1, NAN}, {1, 2}, {}, {1}).ok());     // not finite
  EXPECT_FALSE(FitRidge({1, 2}, {1, 2}, {1, -1}, {1}).ok());  // negative weight
}

}  // namespace
}  // namespace edgeloop::predictor
