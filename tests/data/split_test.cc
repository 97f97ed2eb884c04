// Split parsing and selection: by object and layer range, deterministic and disjoint.
#include "data/split.h"

#include <algorithm>
#include <set>

#include "gtest/gtest.h"
#include "tests/data/data_test_util.h"
#include "tests/test_util.h"

namespace edgeloop::data {
namespace {

using ::edgeloop::data::testing::Contains;
using ::edgeloop::data::testing::Generate;
using ::edgeloop::data::testing::SmallSynth;
using ::edgeloop::testing::TempDir;

class SplitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SynthOptions o = SmallSynth(dir_.File("d.hdf5"));
    o.layers = 10;
    o.lines_per_layer = 2;
    o.max_frames = 8;
    Generate(o);
    auto reader = Reader::Open({o.out});
    ASSERT_TRUE(reader.ok()) << reader.status();
    reader_ = std::move(*reader);
  }
  std::vector<int64_t> Select(const std::string& spec) {
    auto split = ParseSplit(spec);
    EXPECT_TRUE(split.ok()) << split.status();
    if (!split.ok()) return {};
    auto lines = SelectLines(*reader_, *split);
    EXPECT_TRUE(lines.ok()) << lines.status();
    return lines.ok() ? *lines : std::vector<int64_t>{};
  }
  std::set<std::string> Layers(const std::vector<int64_t>& lines) {
    std::set<std::string> names;
    for (int64_t i : lines) {
      const LayerInfo& l =
          reader_->layers()[static_cast<size_t>(reader_->lines()[static_cast<size_t>(i)].layer)];
      names.insert(l.object + "/" + l.name);
    }
    return names;
  }
  TempDir dir_;
  std::unique_ptr<Reader> reader_;
};

TEST_F(SplitTest, AllAndObjects) {
  EXPECT_EQ(Select("all").size(), 40u);
  EXPECT_EQ(Select("C027").size(), 20u);
  EXPECT_EQ(Select("C027, C028").size(), 40u);
  EXPECT_EQ(Select("C027,C027").size(), 20u);  // overlapping terms select once
  for (int64_t i : Select("C028"))
    EXPECT_EQ(reader_->layers()[static_cast<size_t>(reader_->lines()[static_cast<size_t>(i)].layer)]
                  .object,
              "C028");
}

TEST_F(SplitTest, LayerRangesAreDisjointAndCover) {
  auto train = Select("C027:layers[0:80%]");
  auto test = Select("C027:layers[80%:100%]");
  EXPECT_EQ(Layers(train).size(), 8u);
  EXPECT_EQ(Layers(test).size(), 2u);
  EXPECT_TRUE(Layers(test).count("C027/layer0009"));
  EXPECT_TRUE(Layers(test).count("C027/layer0010"));
  std::vector<int64_t> both;
  std::set_intersection(train.begin(), train.end(), test.begin(), test.end(),
                        std::back_inserter(both));
  EXPECT_TRUE(both.empty());
  EXPECT_EQ(train.size() + test.size(), Select("C027").size());
  EXPECT_EQ(Select("C027:layers[80%:]"), test);
  EXPECT_EQ(Layers(Select("C027:layers[0:3]")),
            (std::set<std::string>{"C027/layer0001", "C027/layer0002", "C027/layer0003"}));
  EXPECT_EQ(Layers(Select("*:layers[:1]")),
            (std::set<std::string>{"C027/layer0001", "C028/layer0001"}));
  EXPECT_EQ(Select("C027:layers[5:500]").size(), 10u);  // clamped like a slice
}

TEST_F(SplitTest, RandomLayersAreFixedAndComplementary) {
  auto a = Select("C027:random-layers[0:30%]");
  auto b = Select("C027:random-layers[30%:]");
  EXPECT_EQ(Layers(a).size(), 3u);
  EXPECT_EQ(a, Select("C027:random-layers[0:30%]"));  // deterministic
  std::vector<int64_t> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  EXPECT_TRUE(both.empty());
  EXPECT_EQ(a.size() + b.size(), 20u);
  EXPECT_NE(Layers(a), Layers(Select("C027:layers[0:30%]")));  // not simply the first layers
}

TEST_F(SplitTest, BadSpecs) {
  for (const char* spec :
       {"", "C027:layers", "C027:layers[0-5]", "C027:layers[a:b]", "C027:frames[0:1]",
        "C027:layers[0:120%]", ",C027", "C027:layers[1.5:2]"}) {
    auto split = ParseSplit(spec);
    EXPECT_FALSE(split.ok()) << spec;
    if (!split.ok()) {
      EXPECT_PRED2(Contains, std::string(split.status().message()), "split '");
    }
  }
  auto split = ParseSplit("C099");
  ASSERT_TRUE(split.ok());
  auto lines = SelectLines(*reader_, *split);
  ASSERT_FALSE(lines.ok());
  EXPECT_PRED2(Contains, std::string(lines.status().message()),
               "object C099 is not in the data (objects: C027, C028)");
}

}  // namespace
}  // namespace edgeloop::data
