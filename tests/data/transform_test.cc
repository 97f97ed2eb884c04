// The sample transform: crop around the brightest pixel, temporal window, padding, resize.
#include "data/transform.h"

#include <cmath>

#include "base/rng.h"
#include "gtest/gtest.h"

namespace edgeloop::data {
namespace {

constexpr float kBlack = (0.0f - 0.45f) / 0.225f;  // a black pixel after normalisation

// n frames of h x w, value = frame index + 1 everywhere, with a bright spot at (row, col).
std::vector<uint8_t> Frames(int64_t n, int h, int w, int row, int col) {
  std::vector<uint8_t> f(static_cast<size_t>(n * h * w));
  for (int64_t t = 0; t < n; ++t)
    for (int i = 0; i < h * w; ++i)
      f[static_cast<size_t>(t * h * w + i)] = static_cast<uint8_t>(t + 1);
  for (int64_t t = 0; t < n; ++t) f[static_cast<size_t>(t * h * w + row * w + col)] = 250;
  return f;
}

float Normalised(int raw) { return (raw / 255.0f - 0.45f) / 0.225f; }

TEST(TransformTest, BrightestPixelOfMeanFrame) {
  std::vector<uint8_t> f(3 * 4 * 5, 10);
  f[0 * 20 + 7] = 255;   // one very bright frame at (1, 2)...
  f[1 * 20 + 13] = 200;  // ...loses to a pixel bright in every frame, (2, 3)
  f[2 * 20 + 13] = 200;
  f[0 * 20 + 13] = 200;
  int row, col;
  BrightestPixel(f.data(), 3, 4, 5, &row, &col);
  EXPECT_EQ(row, 2);
  EXPECT_EQ(col, 3);
}

TEST(TransformTest, CropIsCentredOnTheBrightestPixel) {
  TransformOptions o;
  o.frames = 4;
  const int h = 64, w = 64, row = 30, col = 37;
  auto f = Frames(4, h, w, row, col);
  std::vector<float> out(4 * 41 * 41);
  TransformFrames(f.data(), 4, h, w, 0, 41, o, out.data());  // resolution = crop: no resampling
  for (int t = 0; t < 4; ++t) {
    const float* plane = &out[static_cast<size_t>(t * 41 * 41)];
    EXPECT_FLOAT_EQ(plane[20 * 41 + 20], Normalised(250)) << "frame " << t;
    EXPECT_FLOAT_EQ(plane[0], Normalised(t + 1));
    EXPECT_FLOAT_EQ(plane[20 * 41 + 21], Normalised(t + 1));
  }
}

TEST(TransformTest, CropNearTheBorderPadsWithBlack) {
  TransformOptions o;
  o.frames = 1;
  auto f = Frames(1, 32, 32, 2, 30);  // near the top-right corner; frame smaller than the crop
  std::vector<float> out(41 * 41);
  TransformFrames(f.data(), 1, 32, 32, 0, 41, o, out.data());
  EXPECT_FLOAT_EQ(out[20 * 41 + 20], Normalised(250));
  EXPECT_FLOAT_EQ(out[0], kBlack);                   // row 2 - 20 < 0
  EXPECT_FLOAT_EQ(out[18 * 41 + 0], Normalised(1));  // row 0, col 10: inside
  EXPECT_FLOAT_EQ(out[20 * 41 + 22], kBlack);        // col 32: outside
  EXPECT_FLOAT_EQ(out[20 * 41 + 21], Normalised(1));
}

TEST(TransformTest, WindowOffsets) {
  Rng rng(3);
  EXPECT_EQ(WindowOffset(40, 16, false, &rng), 12);
  EXPECT_EQ(WindowOffset(41, 16, false, &rng), 12);
  EXPECT_EQ(WindowOffset(16, 16, true, &rng), 0);
  EXPECT_EQ(WindowOffset(5, 16, true, &rng), 0);
  EXPECT_EQ(WindowOffset(5, 16, false, &rng), 0);
  std::vector<int> seen(25, 0);
  for (int i = 0; i < 2000; ++i) {
    int64_t off = WindowOffset(40, 16, true, &rng);
    ASSERT_GE(off, 0);
    ASSERT_LE(off, 24);
    ++seen[static_cast<size_t>(off)];
  }
  for (int s : seen) EXPECT_GT(s, 30);  // every position is reachable
}

TEST(TransformTest, WindowSelectsFramesAndPadsShortLines) {
  TransformOptions o;
  o.frames = 6;
  auto f = Frames(10, 41, 41, 20, 20);
  std::vector<float> out(6 * 41 * 41);
  TransformFrames(f.data(), 10, 41, 41, 3, 41, o, out.data());
  for (int t = 0; t < 6; ++t)
    EXPECT_FLOAT_EQ(out[static_cast<size_t>(t * 41 * 41)], Normalised(t + 4));
  auto s = Frames(4, 41, 41, 20, 20);  // shorter than the window: frames then zeros
  TransformFrames(s.data(), 4, 41, 41, 0, 41, o, out.data());
  for (int t = 0; t < 4; ++t)
    EXPECT_FLOAT_EQ(out[static_cast<size_t>(t * 41 * 41)], Normalised(t + 1));
  for (int t = 4; t < 6; ++t)
    for (int i = 0; i < 41 * 41; ++i) ASSERT_EQ(out[static_cast<size_t>(t * 41 * 41 + i)], 0.0f);
}

TEST(TransformTest, ResizeKeepsConstantsAndCentre) {
  TransformOptions o;
  o.frames = 1;
  std::vector<uint8_t> f(64 * 64, 100);
  f[32 * 64 + 32] = 101;  // the brightest pixel: crop centre
  for (int r : {16, 64, 224}) {
    std::vector<float> out(static_cast<size_t>(r * r));
    TransformFrames(f.data(), 1, 64, 64, 0, r, o, out.data());
    EXPECT_NEAR(out[0], Normalised(100), 1e-5) << r;
    EXPECT_NEAR(out[static_cast<size_t>(r * r - 1)], Normalised(100), 1e-5) << r;
  }
  // Upscaling 41 -> 82: output pixels 40 and 41 straddle source pixel 20 symmetrically.
  std::vector<float> out(82 * 82);
  TransformFrames(f.data(), 1, 64, 64, 0, 82, o, out.data());
  EXPECT_FLOAT_EQ(out[40 * 82 + 40], out[41 * 82 + 41]);
  EXPECT_GT(out[40 * 82 + 40], Normalised(100));
}

TEST(TransformTest, Targets) {
  TransformOptions o;
  float t[2];
  Targets(900, 215, o, t);
  EXPECT_FLOAT_EQ(t[0], 1.0f);
  EXPECT_FLOAT_EQ(t[1], 1.0f);
  Targets(450, 107.5, o, t);
  EXPECT_FLOAT_EQ(t[0], 0.5f);
  EXPECT_FLOAT_EQ(t[1], 0.5f);
}

}  // namespace
}  // namespace edgeloop::data
