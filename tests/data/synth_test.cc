// The generator: determinism, the physical trends it promises, and option validation.
#include "data/synth.h"

#include <cmath>
#include <numeric>

#include "gtest/gtest.h"
#include "tests/data/data_test_util.h"

namespace edgeloop::data {
namespace {

using ::edgeloop::data::testing::Contains;

TEST(SynthTest, DeterministicPerLine) {
  SynthOptions o;
  o.frame_size = 32;
  SynthLine a, b, c;
  std::vector<uint8_t> fa, fb, fc;
  RenderLine(o, "C027", 3, 5, &a, &fa);
  RenderLine(o, "C027", 3, 5, &b, &fb);
  RenderLine(o, "C027", 3, 6, &c, &fc);
  EXPECT_EQ(fa, fb);
  EXPECT_EQ(a.speed, b.speed);
  EXPECT_NE(a.speed, c.speed);
  o.seed = 1;
  RenderLine(o, "C027", 3, 5, &b, &fb);
  EXPECT_NE(a.speed, b.speed);
}

struct LineStats {
  double speed, power, bright_pixels, mean, frames;
};

TEST(SynthTest, RangesAndPhysicalTrends) {
  SynthOptions o;
  o.frame_size = 32;
  o.max_frames = 24;
  std::vector<LineStats> stats;
  int shorter_than_window = 0;
  std::vector<uint8_t> f;
  for (int64_t line = 0; line < 200; ++line) {
    SynthLine m;
    RenderLine(o, "C027", 1, line, &m, &f);
    ASSERT_GE(m.speed, 200);
    ASSERT_LE(m.speed, 1600);
    ASSERT_GE(m.power, 75);
    ASSERT_LE(m.power, 355);
    ASSERT_EQ(f.size(), static_cast<size_t>(m.num_frames * 32 * 32));
    if (m.num_frames < 16) ++shorter_than_window;
    double bright = 0, sum = 0;
    for (uint8_t p : f) {
      bright += p > 128;
      sum += p;
    }
    stats.push_back({m.speed, m.power, bright / m.num_frames, sum / f.size(),
                     static_cast<double>(m.num_frames)});
  }
  EXPECT_GT(shorter_than_window, 10);
  EXPECT_LT(shorter_than_window, 190);
  // The melt pool grows with the energy density P/v and lines last longer when slower.
  auto correlation = [&](auto x, auto y) {
    double mx = 0, my = 0;
    for (const auto& s : stats) mx += x(s), my += y(s);
    mx /= stats.size(), my /= stats.size();
    double sxy = 0, sxx = 0, syy = 0;
    for (const auto& s : stats) {
      sxy += (x(s) - mx) * (y(s) - my);
      sxx += (x(s) - mx) * (x(s) - mx);
      syy += (y(s) - my) * (y(s) - my);
    }
    return sxy / std::sqrt(sxx * syy);
  };
  auto energy = [](const LineStats& s) { return s.power / s.speed; };
  EXPECT_GT(correlation(energy, [](const LineStats& s) { return s.bright_pixels; }), 0.7);
  EXPECT_GT(correlation([](const LineStats& s) { return s.power; },
                        [](const LineStats& s) { return s.mean; }),
            0.3);
  EXPECT_LT(correlation([](const LineStats& s) { return s.speed; },
                        [](const LineStats& s) { return s.frames; }),
            -0.5);
}

TEST(SynthTest, ValidatesOptions) {
  SynthOptions o;
  o.out = "x.hdf5";
  EXPECT_TRUE(ValidateSynthOptions(o).ok());
  o.frame_size = 4;
  EXPECT_PRED2(Contains, std::string(ValidateSynthOptions(o).message()), "frame size: got 4");
  o = SynthOptions();
  o.out = "x.hdf5";
  o.objects = {"C0/27"};
  EXPECT_FALSE(ValidateSynthOptions(o).ok());
  o.objects = {"C027", "C028"};
  o.layout = Layout::kV11;
  EXPECT_PRED2(Contains, std::string(ValidateSynthOptions(o).message()), "give a directory");
  o.out = "dir";
  EXPECT_EQ(SynthOutputFiles(o), (std::vector<std::string>{"dir/C027.hdf5", "dir/C028.hdf5"}));
  o.min_frames = 10;
  o.max_frames = 5;
  EXPECT_FALSE(ValidateSynthOptions(o).ok());
}

}  // namespace
}  // namespace edgeloop::data
