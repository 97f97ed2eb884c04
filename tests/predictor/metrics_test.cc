#include "predictor/metrics.h"

#include <cmath>

#include "gtest/gtest.h"

namespace edgeloop::predictor {
namespace {

TEST(MetricsTest, HandComputedValues) {
  // Errors: +10%, -5%, 0%, +20% (relative to measured).
  const std::vector<double> y = {10, 20, 30, 40};
  const std::vector<double> p = {11, 19, 30, 48};
  const AccuracyMetrics m = ComputeMetrics(y, p);
  EXPECT_EQ(m.n, 4);
  // rmspe = sqrt((0.01 + 0.0025 + 0 + 0.04) / 4) = sqrt(0.013125)
  EXPECT_NEAR(m.rmspe, std::sqrt(0.013125) * 100, 1e-9);
  EXPECT_NEAR(m.mape, (0.1 + 0.05 + 0 + 0.2) / 4 * 100, 1e-9);
  EXPECT_DOUBLE_EQ(m.within_5, 0.5);    // -5% (edge) and 0%
  EXPECT_DOUBLE_EQ(m.within_10, 0.75);  // +10% (edge), -5%, 0%
  EXPECT_NEAR(m.spearman, 1.0, 1e-12);  // same order
  EXPECT_NEAR(m.kendall, 1.0, 1e-12);
}

TEST(MetricsTest, RankCorrelationsWithSwapsAndTies) {
  // One swapped pair of 4: concordant 5, discordant 1 -> tau = 4/6.
  EXPECT_NEAR(KendallTauB({1, 2, 3, 4}, {1, 3, 2, 4}), 4.0 / 6.0, 1e-12);
  // Spearman: d = (0, 1, -1, 0), 1 - 6*2/(4*15) = 0.8.
  EXPECT_NEAR(Spearman({1, 2, 3, 4}, {1, 3, 2, 4}), 0.8, 1e-12);
  // Reversed order.
  EXPECT_NEAR(Spearman({1, 2, 3}, {3, 2, 1}), -1.0, 1e-12);
  EXPECT_NEAR(KendallTauB({1, 2, 3}, {3, 2, 1}), -1.0, 1e-12);
  // Ties: average ranks.
  const auto ranks = AverageRanks({5, 1, 5, 3});
  EXPECT_EQ(ranks, (std::vector<double>{3.5, 1, 3.5, 2}));
  // tau-b with a tie in b: pairs (1,2):+ (1,3):+ (2,3):tie-in-b -> (2)/sqrt(3*2).
  EXPECT_NEAR(KendallTauB({1, 2, 3}, {1, 2, 2}), 2.0 / std::sqrt(6.0), 1e-12);
  // Constant series: 0, not NaN.
  EXPECT_EQ(Spearman({1, 2, 3}, {2, 2, 2}), 0.0);
}

TEST(MetricsTest, JsonHasEveryMetric) {
  const std::string json = MetricsToJson(ComputeMetrics({1, 2}, {1, 2}));
  for (const char* key :
       {"\"n\":2", "rmspe", "mape", "within_5", "within_10", "spearman", "kendall"})
    EXPECT_NE(json.find(key), std::string::npos) << key;
}

}  // namespace
}  // namespace edgeloop::predictor
