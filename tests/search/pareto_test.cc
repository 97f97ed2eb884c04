#include "search/pareto.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace edgeloop::search {
namespace {

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(ParetoTest, Dominance) {
  EXPECT_TRUE(Dominates({1, 1}, {2, 2}));
  EXPECT_TRUE(Dominates({1, 2}, {1, 3}));
  EXPECT_FALSE(Dominates({1, 2}, {1, 2}));
  EXPECT_FALSE(Dominates({1, 3}, {2, 1}));
  EXPECT_TRUE(Dominates({5, 5}, {kNaN, 1}) == false);
  EXPECT_TRUE(Dominates({5, 5}, {kNaN, 6}));  // an unscored point dominates nothing
}

TEST(ParetoTest, FrontsInOrder) {
  //   0:(1,5) 1:(2,3) 2:(4,1) front 0; 3:(3,4) 4:(5,2) front 1; 5:(6,6) front 2
  const std::vector<Point> points = {{1, 5}, {2, 3}, {4, 1}, {3, 4}, {5, 2}, {6, 6}};
  const auto fronts = NonDominatedFronts(points);
  ASSERT_EQ(fronts.size(), 3u);
  EXPECT_EQ(fronts[0], (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(fronts[1], (std::vector<int>{3, 4}));
  EXPECT_EQ(fronts[2], (std::vector<int>{5}));
  EXPECT_EQ(ParetoFront({{4, 1}, {1, 5}, {2, 3}, {3, 4}}), (std::vector<int>{1, 2, 0}));
}

TEST(ParetoTest, CrowdingDistance) {
  const std::vector<Point> points = {{0, 10}, {1, 6}, {5, 5}, {10, 0}};
  const auto d = CrowdingDistance(points, {0, 1, 2, 3});
  EXPECT_EQ(d[0], kInf);
  EXPECT_EQ(d[3], kInf);
  // Point 1: neighbours (0,10) and (5,5): 5/10 + 5/10; point 2: (1,6), (10,0): 9/10 + 6/10.
  EXPECT_DOUBLE_EQ(d[1], 1.0);
  EXPECT_DOUBLE_EQ(d[2], 1.5);
  EXPECT_EQ(CrowdingDistance(points, {0, 1}), (std::vector<double>{kInf, kInf}));
}

TEST(ParetoTest, Hypervolume) {
  EXPECT_DOUBLE_EQ(Hypervolume({{1, 5}, {2, 3}}, {10, 10}), 9 * 5 + 8 * 2);
  // Dominated and outside points add nothing; order does not matter.
  EXPECT_DOUBLE_EQ(Hypervolume({{2, 3}, {3, 4}, {1, 5}, {11, 0}, {kNaN, 1}}, {10, 10}), 61);
  EXPECT_DOUBLE_EQ(Hypervolume({}, {1, 1}), 0);
  EXPECT_DOUBLE_EQ(Hypervolume({{0, 0}}, {2, 3}), 6);
}

}  // namespace
}  // namespace edgeloop::search
