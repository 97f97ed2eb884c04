// `edgeloop data synth|inspect` as a user runs them, and the files read by HDF5's own tools.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/data/data_test_util.h"
#include "tests/test_util.h"

namespace edgeloop {
namespace {

using data::testing::Contains;
using data::testing::ExpectContainsAll;
using testing::RunCommand;
using testing::RunEdgeloop;
using testing::TempDir;

const char kSmall[] =
    " --objects C027,C028 --layers 2 --lines-per-layer 3 --frame-size 24 --max-frames 20 --seed 4";

TEST(DataCliTest, SynthAndInspectV10) {
  TempDir dir;
  auto r = RunEdgeloop("data synth --out " + dir.File("a.hdf5") + kSmall);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ExpectContainsAll(r.out, {"12 scan lines", "synth  12/12 lines"});
  r = RunEdgeloop("data inspect " + dir.File("a.hdf5"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ExpectContainsAll(
      r.out, {"layout:      v1.0", "scan lines:  12", "frame size:  24x24", "labelled:    yes"});
  r = RunEdgeloop("data inspect --json " + dir.File("a.hdf5"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ExpectContainsAll(r.out,
                    {"\"layout\":\"v1.0\"", "{\"name\":\"C028\",\"layers\":2,\"scan_lines\":6,",
                     "\"labelled\":true", "\"frame_size\":{\"height\":[24,24],\"width\":[24,24]}"});
}

TEST(DataCliTest, SynthV11UnlabelledAndDeterministic) {
  TempDir dir;
  ASSERT_EQ(RunEdgeloop("data synth --layout v1.1 --unlabelled --out " + dir.File("objs") + kSmall)
                .exit_code,
            0);
  auto r = RunEdgeloop("data inspect --json " + dir.File("objs"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ExpectContainsAll(r.out, {"\"layout\":\"v1.1\"", "\"labelled\":false", "\"speed\":null"});
  ASSERT_EQ(RunEdgeloop("data synth --out " + dir.File("b.hdf5") + kSmall).exit_code, 0);
  sleep(1);  // HDF5 would record a different modification time in a later second
  ASSERT_EQ(RunEdgeloop("data synth --out " + dir.File("c.hdf5") + kSmall).exit_code, 0);
  EXPECT_EQ(RunCommand("cmp " + dir.File("b.hdf5") + " " + dir.File("c.hdf5")).exit_code, 0);
}

TEST(DataCliTest, ReadableByHdf5Tools) {
  TempDir dir;
  ASSERT_EQ(RunEdgeloop("data synth --out " + dir.File("a.hdf5") + kSmall).exit_code, 0);
  auto r = RunCommand("h5dump -H " + dir.File("a.hdf5"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ExpectContainsAll(r.out,
                    {"GROUP \"C027\"", "GROUP \"layer0001\"", "DATASET \"frame\"", "H5T_STD_U8LE",
                     "DATASET \"scan_line_index\"", "DATASET \"laser_params\""});
  r = RunCommand("h5dump -d /C027/layer0001/laser_params " + dir.File("a.hdf5"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_PRED2(Contains, r.out, "( 3, 2 )");
}

// A disk that fills up while the file is written (here: a file size limit, which fails
// the write the same way): one line, exit 1, no temporary file left, no crash at exit.
TEST(DataCliTest, AFullDiskFailsCleanly) {
  TempDir dir;
  const std::string out = dir.File("full.h5");
  auto r =
      RunCommand("bash -c 'ulimit -f 200; trap \"\" XFSZ; exec " + testing::EdgeloopBinary() +
                 " data synth --out " + out +
                 " --objects C027 --layers 4 --lines-per-layer 8 --frame-size 64 --seed 1' 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(
      Contains(r.out, "full.h5: cannot write dataset frame: file write failed: File too large"))
      << r.out;
  int error_lines = 0;
  for (size_t at = r.out.find("error:"); at != std::string::npos; at = r.out.find("error:", at + 1))
    ++error_lines;
  EXPECT_EQ(error_lines, 1) << r.out;
  EXPECT_EQ(r.out.find("\n,"), std::string::npos) << r.out;  // HDF5's multi-line detail is gone
  auto left = RunCommand("ls " + dir.path());
  EXPECT_EQ(left.out, "") << "left behind: " << left.out;
}

TEST(DataCliTest, BadInputExitsTwo) {
  TempDir dir;
  auto r = RunEdgeloop("data inspect " + dir.File("missing.hdf5"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_PRED2(Contains, r.out, "missing.hdf5: no such file");
  std::ofstream(dir.File("x.hdf5")) << "plain text";
  r = RunEdgeloop("data inspect " + dir.File("x.hdf5"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_PRED2(Contains, r.out, "not an HDF5 file");
  r = RunEdgeloop("data synth --out " + dir.File("y.hdf5") + " --layout v2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_PRED2(Contains, r.out, "flag --layout");
  r = RunEdgeloop("data synth --out " + dir.File("y.hdf5") + " --frame-size 2");
  EXPECT_EQ(r.exit_code, 2);
  r = RunEdgeloop("data synth --layout v1.1 --objects C1,C2 --out " + dir.File("y.hdf5"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_PRED2(Contains, r.out, "give a directory");
  data::testing::LayerSpec bad;
  bad.index = {0, 1};
  data::testing::WriteLayers(dir.File("bad.hdf5"), {bad});
  r = RunEdgeloop("data inspect " + dir.File("bad.hdf5"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_PRED2(Contains, r.out,
               "/C027/layer0001/scan_line_index: has 2 entries but frame has 6 frames");
  // A file this user may not read is said to be so, not "not an HDF5 file".
  std::filesystem::permissions(dir.File("bad.hdf5"), std::filesystem::perms::owner_read |
                                                         std::filesystem::perms::owner_write);
  if (testing::RunEdgeloopAsNobody(dir.path(), "data inspect " + dir.File("bad.hdf5"), &r)) {
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_PRED2(Contains, r.out, "bad.hdf5: not readable (Permission denied)");
  }
}

}  // namespace
}  // namespace edgeloop
