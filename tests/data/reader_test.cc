// The reader against generated files (round trip, both layouts) and hand-made bad files.
#include "data/reader.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "absl/strings/str_cat.h"
#include "data/synth.h"
#include "gtest/gtest.h"
#include "tests/data/data_test_util.h"
#include "tests/test_util.h"

namespace edgeloop::data {
namespace {

using ::edgeloop::data::testing::Contains;
using ::edgeloop::data::testing::Generate;
using ::edgeloop::data::testing::LayerSpec;
using ::edgeloop::data::testing::SmallSynth;
using ::edgeloop::data::testing::WriteLayers;
using ::edgeloop::testing::TempDir;

void ExpectRoundTrip(const SynthOptions& o, const std::vector<std::string>& paths) {
  const std::vector<SynthLine> truth = Generate(o);
  ASSERT_EQ(truth.size(), 2u * 5 * 4);
  auto reader = Reader::Open(paths);
  ASSERT_TRUE(reader.ok()) << reader.status();
  const Reader& r = **reader;
  EXPECT_EQ(r.Objects(), (std::vector<std::string>{"C027", "C028"}));
  ASSERT_EQ(r.layers().size(), 10u);
  ASSERT_EQ(r.lines().size(), truth.size());
  EXPECT_TRUE(r.labelled());
  EXPECT_EQ(r.skips().total(), 0);
  std::vector<uint8_t> frames, expected;
  for (size_t i = 0; i < truth.size(); ++i) {
    const ScanLine& line = r.lines()[i];
    const LayerInfo& layer = r.layers()[static_cast<size_t>(line.layer)];
    EXPECT_EQ(layer.object, truth[i].object);
    EXPECT_EQ(layer.number, truth[i].layer);
    EXPECT_EQ(line.line, truth[i].line);
    EXPECT_EQ(line.speed, truth[i].speed);  // exact: float64 in the file
    EXPECT_EQ(line.power, truth[i].power);
    EXPECT_EQ(line.num_frames, truth[i].num_frames);
    EXPECT_EQ(layer.height, 32);
    ASSERT_TRUE(r.ReadFrames(static_cast<int64_t>(i), &frames).ok());
    SynthLine meta;
    RenderLine(o, truth[i].object, truth[i].layer, truth[i].line, &meta, &expected);
    EXPECT_EQ(frames, expected) << "line " << i;
  }
}

TEST(ReaderTest, RoundTripV10) {
  TempDir dir;
  SynthOptions o = SmallSynth(dir.File("train.hdf5"));
  ExpectRoundTrip(o, {o.out});
  auto reader = Reader::Open({o.out});
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->layout(0), Layout::kV10);
  EXPECT_EQ((*reader)->layers()[0].group_path, "/C027/layer0001");
}

TEST(ReaderTest, RoundTripV11AsDirectoryAndFiles) {
  TempDir dir;
  SynthOptions o = SmallSynth(dir.File("objects"), Layout::kV11);
  ExpectRoundTrip(o, {o.out});  // the directory
  ExpectRoundTrip(o, {dir.File("objects/C027.hdf5"), dir.File("objects/C028.hdf5")});
  auto reader = Reader::Open({dir.File("objects/C028.hdf5")});
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->layout(0), Layout::kV11);
  EXPECT_EQ((*reader)->Objects(), std::vector<std::string>{"C028"});
  EXPECT_EQ((*reader)->layers()[0].group_path, "/layer0001");
}

TEST(ReaderTest, SameSeedSamePixelsInBothLayouts) {
  TempDir dir;
  SynthOptions a = SmallSynth(dir.File("a.hdf5"));
  SynthOptions b = SmallSynth(dir.File("b"), Layout::kV11);
  Generate(a);
  Generate(b);
  auto ra = Reader::Open({a.out});
  auto rb = Reader::Open({b.out});
  ASSERT_TRUE(ra.ok() && rb.ok());
  ASSERT_EQ((*ra)->lines().size(), (*rb)->lines().size());
  std::vector<uint8_t> fa, fb;
  for (int64_t i = 0; i < static_cast<int64_t>((*ra)->lines().size()); i += 7) {
    ASSERT_TRUE((*ra)->ReadFrames(i, &fa).ok());
    ASSERT_TRUE((*rb)->ReadFrames(i, &fb).ok());
    EXPECT_EQ(fa, fb);
  }
}

TEST(ReaderTest, UnlabelledFileIsReadable) {
  TempDir dir;
  SynthOptions o = SmallSynth(dir.File("test.hdf5"));
  o.labelled = false;
  Generate(o);
  auto reader = Reader::Open({o.out});
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_FALSE((*reader)->labelled());
  EXPECT_EQ((*reader)->lines().size(), 40u);
  for (const ScanLine& l : (*reader)->lines()) EXPECT_FALSE(l.labelled);
  EXPECT_EQ((*reader)->skips().total(), 0);
}

std::string OpenError(const std::string& path) {
  auto reader = Reader::Open({path});
  EXPECT_FALSE(reader.ok());
  return reader.ok() ? "" : std::string(reader.status().message());
}

TEST(ReaderBadInputTest, MissingFileAndNotHdf5) {
  TempDir dir;
  EXPECT_EQ(Reader::Open({dir.File("nope.hdf5")}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_PRED2(Contains, OpenError(dir.File("nope.hdf5")), ("nope.hdf5: no such file"));
  std::ofstream(dir.File("text.hdf5")) << "not hdf5 at all";
  EXPECT_PRED2(Contains, OpenError(dir.File("text.hdf5")), ("text.hdf5: not an HDF5 file"));
  std::filesystem::create_directory(dir.File("empty"));
  EXPECT_PRED2(Contains, OpenError(dir.File("empty")),
               ("empty: directory holds no *.hdf5 or *.h5 file"));
}

// A one-layer file with one dataset missing, mistyped or inconsistent with the others.
struct BadLayerCase {
  const char* name;
  std::function<void(LayerSpec*)> edit;
  const char* error;  // a part of the error
};

TEST(ReaderBadInputTest, BadDatasetsAreErrors) {
  const BadLayerCase cases[] = {
      {"no_frame", [](LayerSpec* l) { l->write_frame = false; },
       "no_frame.hdf5: /C027/layer0001/frame: missing dataset"},
      {"no_index", [](LayerSpec* l) { l->write_index = false; },
       "/C027/layer0001/scan_line_index: missing dataset"},
      {"float_frames", [](LayerSpec* l) { l->frame_type = H5T_NATIVE_FLOAT; },
       "/C027/layer0001/frame: expected uint8 [n_frames, height, width], found float32 [6, 8, 8]"},
      {"string_params", [](LayerSpec* l) { l->params_as_string = true; },
       "/C027/layer0001/laser_params: expected numeric [n_lines, 2]"},
      {"one_column", [](LayerSpec* l) { l->params_cols = 1; }, "laser_params: expected numeric"},
      {"short_index",
       [](LayerSpec* l) {
         l->index = {0, 0, 1, 1};
       },
       "/C027/layer0001/scan_line_index: has 4 entries but frame has 6 frames"},
      {"split_run", [](LayerSpec* l) { l->index = {0, 0, 1, 1, 0, 0}; },
       "scan line 0 has frames in two separate runs"},
      // Found by hdf5_reader_fuzz: a header claiming 2^40 rows made the reader allocate them.
      {"claimed_rows", [](LayerSpec* l) { l->params_claimed_rows = hsize_t{1} << 40; },
       "/C027/layer0001/laser_params: dataset claims 17592186044416 bytes but the file holds 0 "
       "for it (corrupt header)"},
  };
  TempDir dir;
  for (const BadLayerCase& c : cases) {
    LayerSpec layer;
    c.edit(&layer);
    const std::string path = dir.File(absl::StrCat(c.name, ".hdf5"));
    WriteLayers(path, {layer});
    EXPECT_PRED2(Contains, OpenError(path), c.error) << c.name;
  }
  // Found by hdf5_reader_fuzz: a chunk larger than its fixed-size dataset (HDF5 never writes
  // one) made HDF5 1.10's chunk reader read freed memory when frames were read.
  EXPECT_PRED2(Contains,
               OpenError(::edgeloop::testing::SourcePath(
                   "tests/fuzz/corpus/hdf5_reader_fuzz/regression-chunk-larger-than-dataset")),
               ("/C027/layer0001/frame: chunk dimension 1 (42) does not fit the dataset's (8; "
                "corrupt header)"));
  // And a dataset saying it stores 4 GiB in a 9 KiB file (HDF5 allocated and cleared it).
  EXPECT_PRED2(Contains,
               OpenError(::edgeloop::testing::SourcePath(
                   "tests/fuzz/corpus/hdf5_reader_fuzz/regression-chunk-larger-than-file")),
               ("/C027/layer0001/frame: dataset says it stores 4294966910 bytes in a file of 9344 "
                "(corrupt header)"));
  // And a compact scan_line_index holding no bytes (HDF5 1.10 copied from a null pointer;
  // HDF5 1.14, Debian 13's, already refuses to open it).
  const std::string compact = OpenError(::edgeloop::testing::SourcePath(
      "tests/fuzz/corpus/hdf5_reader_fuzz/regression-compact-without-data"));
  EXPECT_TRUE(Contains(compact,
                       "/C054/layer0001/scan_line_index: compact dataset holds 0 bytes, "
                       "its shape needs 24 (corrupt header)") ||
              Contains(compact, "/C054/layer0001/scan_line_index: not a dataset"))
      << compact;
  // And a number type claiming 13,323 bits in 8 bytes (HDF5 1.10 read past it converting).
  const std::string precision = OpenError(::edgeloop::testing::SourcePath(
      "tests/fuzz/corpus/hdf5_reader_fuzz/regression-number-precision"));
  EXPECT_TRUE(Contains(precision,
                       "/C027/layer0001/laser_params: a 8-byte number type with 13323 "
                       "bits of precision at bit 0 (corrupt header)") ||
              Contains(precision, "/C027/layer0001/laser_params: not a dataset"))
      << precision;
  WriteLayers(dir.File("empty.hdf5"), {});
  EXPECT_PRED2(Contains, OpenError(dir.File("empty.hdf5")), ("no object or layer groups"));
}

TEST(ReaderBadInputTest, IsolatedBadLinesAreSkippedAndCounted) {
  TempDir dir;
  LayerSpec missing_label;  // line 2 has frames but laser_params has 2 rows
  missing_label.index = {0, 0, 1, 1, 2, 2};
  LayerSpec orphan_label;  // 3 rows, lines 0 and 2 have frames, line 1 none; negative frames
  orphan_label.group = "/C027/layer0002";
  orphan_label.index = {0, 0, -1, -1, 2, 2};
  orphan_label.params = {500, 200, 900, 150, 1000, 300};
  LayerSpec bad_value;
  bad_value.group = "/C027/layer0003";
  bad_value.params = {500, 200, std::nan(""), 150};
  LayerSpec no_frames;
  no_frames.group = "/C027/layer0004";
  no_frames.frames = 0;
  no_frames.index = {};
  no_frames.params = {};
  no_frames.write_params = false;
  WriteLayers(dir.File("a.hdf5"), {missing_label, orphan_label, bad_value, no_frames});
  auto reader = Reader::Open({dir.File("a.hdf5")});
  ASSERT_TRUE(reader.ok()) << reader.status();
  const SkipReport& s = (*reader)->skips();
  EXPECT_EQ(s.lines_without_labels, 1);
  EXPECT_EQ(s.lines_without_frames, 1);
  EXPECT_EQ(s.frames_without_line, 2);
  EXPECT_EQ(s.lines_with_bad_labels, 1);
  EXPECT_EQ(s.empty_layers, 1);
  EXPECT_EQ((*reader)->lines().size(), 2u + 2u + 1u);
  for (const ScanLine& l : (*reader)->lines()) EXPECT_TRUE(l.labelled);
  ASSERT_FALSE(s.examples.empty());
  EXPECT_PRED2(Contains, s.examples[0],
               ("a.hdf5: /C027/layer0001/laser_params: no row for scan line 2"));
  // The kept lines read back with the right frames.
  std::vector<uint8_t> frames;
  ASSERT_TRUE((*reader)->ReadFrames(1, &frames).ok());
  EXPECT_EQ(frames.size(), 2u * 8 * 8);
  EXPECT_EQ(frames[0], (2 * 64) % 200);
}

}  // namespace
}  // namespace edgeloop::data
