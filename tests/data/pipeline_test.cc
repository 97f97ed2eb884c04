// The input pipeline: shapes, determinism, sharding, resume, per-batch resolution.
#include "data/pipeline.h"

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

class PipelineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    SynthOptions o = SmallSynth(dir_->File("d.hdf5"));  // 40 lines
    Generate(o);
    o.out = dir_->File("unlabelled.hdf5");
    o.labelled = false;
    Generate(o);
  }
  static void TearDownTestSuite() { delete dir_; }

  PipelineOptions Options() {
    PipelineOptions o;
    o.files = {dir_->File("d.hdf5")};
    o.batch_size = 4;
    o.frames = 8;
    o.resolution = 16;
    o.seed = 5;
    return o;
  }
  static std::vector<Batch> Epoch(Pipeline* p, int64_t epoch) {
    EXPECT_TRUE(p->StartEpoch(epoch).ok());
    std::vector<Batch> batches;
    Batch b;
    for (;;) {
      auto more = p->Next(&b);
      EXPECT_TRUE(more.ok()) << more.status();
      if (!more.ok() || !*more) break;
      batches.push_back(b);
    }
    return batches;
  }
  static std::unique_ptr<Pipeline> Open(const PipelineOptions& o) {
    auto p = Pipeline::Open(o);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }
  static std::vector<int64_t> Ids(const std::vector<Batch>& batches) {
    std::vector<int64_t> ids;
    for (const Batch& b : batches) ids.insert(ids.end(), b.sample_ids.begin(), b.sample_ids.end());
    return ids;
  }
  static TempDir* dir_;
};
TempDir* PipelineTest::dir_ = nullptr;

TEST_F(PipelineTest, ShapesAndTargets) {
  auto p = Open(Options());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->num_samples(), 40);
  EXPECT_EQ(p->batches_per_epoch(), 10);
  auto batches = Epoch(p.get(), 0);
  ASSERT_EQ(batches.size(), 10u);
  for (const Batch& b : batches) {
    EXPECT_EQ(b.batch_size, 4);
    EXPECT_EQ(b.inputs.size(), 4u * 8 * 16 * 16);
    EXPECT_EQ(b.targets.size(), 8u);
    EXPECT_TRUE(b.labelled);
    for (int i = 0; i < 4; ++i) {
      const ScanLine& line =
          p->reader().lines()[static_cast<size_t>(p->line_of_sample(b.sample_ids[i]))];
      EXPECT_FLOAT_EQ(b.targets[static_cast<size_t>(2 * i)], static_cast<float>(line.speed / 900));
      EXPECT_FLOAT_EQ(b.targets[static_cast<size_t>(2 * i + 1)],
                      static_cast<float>(line.power / 215));
    }
  }
  auto ids = Ids(batches);
  std::sort(ids.begin(), ids.end());
  for (int64_t i = 0; i < 40; ++i) EXPECT_EQ(ids[static_cast<size_t>(i)], i);  // each sample once
}

TEST_F(PipelineTest, DeterministicUnderSeedWhateverTheWorkers) {
  PipelineOptions o = Options();
  o.workers = 0;
  auto serial = Open(o);
  o.workers = 2;
  o.prefetch_batches = 2;
  auto parallel = Open(o);
  o.seed = 6;
  auto other = Open(o);
  auto a = Epoch(serial.get(), 1), b = Epoch(parallel.get(), 1), c = Epoch(other.get(), 1);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].sample_ids, b[i].sample_ids);
    EXPECT_EQ(a[i].inputs, b[i].inputs);
  }
  EXPECT_NE(Ids(a), Ids(c));
  EXPECT_NE(Ids(a), Ids(Epoch(serial.get(), 2)));  // reshuffled per epoch
}

TEST_F(PipelineTest, EvaluationIsInFileOrderWithCentredWindow) {
  PipelineOptions o = Options();
  o.train = false;
  o.drop_last = false;
  o.batch_size = 6;  // 40 = 6 * 6 + 4
  auto p = Open(o);
  EXPECT_EQ(p->batches_per_epoch(), 7);
  auto a = Epoch(p.get(), 0);
  auto b = Epoch(p.get(), 3);
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a.back().batch_size, 4);
  auto ids = Ids(a);
  for (int64_t i = 0; i < 40; ++i) EXPECT_EQ(ids[static_cast<size_t>(i)], i);
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(a[i].inputs, b[i].inputs);  // same windows every epoch
}

TEST_F(PipelineTest, RankShardsAreDisjointWithEqualBatchCounts) {
  PipelineOptions o = Options();
  o.world_size = 3;  // 40 samples: 13 per rank, 1 left out
  std::set<int64_t> seen;
  for (int rank = 0; rank < 3; ++rank) {
    o.rank = rank;
    auto p = Open(o);
    EXPECT_EQ(p->num_samples(), 13);
    EXPECT_EQ(p->batches_per_epoch(), 3);
    auto batches = Epoch(p.get(), 4);
    EXPECT_EQ(batches.size(), 3u);
    for (int64_t id : Ids(batches))
      EXPECT_TRUE(seen.insert(id).second) << "sample " << id << " twice";
  }
  EXPECT_EQ(seen.size(), 36u);
}

TEST_F(PipelineTest, SkipBatchesResumes) {
  auto p = Open(Options());
  auto full = Epoch(p.get(), 2);
  ASSERT_TRUE(p->StartEpoch(2).ok());
  Batch b;
  ASSERT_TRUE(*p->Next(&b));
  ASSERT_TRUE(p->SkipBatches(6).ok());
  ASSERT_TRUE(*p->Next(&b));
  EXPECT_EQ(b.sample_ids, full[7].sample_ids);
  EXPECT_EQ(b.inputs, full[7].inputs);
  ASSERT_TRUE(p->SkipBatches(100).ok());
  EXPECT_FALSE(*p->Next(&b));
}

TEST_F(PipelineTest, ResolutionPerBatch) {
  PipelineOptions o = Options();
  o.resolution_for_batch = [](int64_t epoch, int64_t index) {
    return static_cast<int>(8 + 4 * ((epoch + index) % 3));
  };
  auto p = Open(o);
  auto batches = Epoch(p.get(), 1);
  for (size_t i = 0; i < batches.size(); ++i) {
    const int64_t r = 8 + 4 * ((1 + static_cast<int64_t>(i)) % 3);
    EXPECT_EQ(batches[i].resolution, r);
    EXPECT_EQ(batches[i].inputs.size(), static_cast<size_t>(4 * 8 * r * r));
  }
}

TEST_F(PipelineTest, AlsoResolutionsMatchAPipelineAtThatResolution) {
  // The extra inputs are the same samples and temporal windows as a batch built at that
  // resolution, so subnets at different resolutions learn from the same clip.
  PipelineOptions o = Options();
  o.resolution = 16;
  o.also_resolutions = {8, 12};
  auto multi = Open(o);
  PipelineOptions single = Options();
  single.resolution = 12;
  auto at12 = Open(single);
  auto batches = Epoch(multi.get(), 2);
  auto expected = Epoch(at12.get(), 2);
  ASSERT_EQ(batches.size(), expected.size());
  for (size_t i = 0; i < batches.size(); ++i) {
    EXPECT_EQ(batches[i].resolution, 16);
    ASSERT_EQ(batches[i].inputs_at.size(), 2u);
    EXPECT_EQ(batches[i].inputs_at.at(8).size(), static_cast<size_t>(4 * 8 * 8 * 8));
    EXPECT_EQ(batches[i].sample_ids, expected[i].sample_ids);
    EXPECT_EQ(batches[i].inputs_at.at(12), expected[i].inputs);
  }
  o.also_resolutions = {0};
  EXPECT_FALSE(Pipeline::Open(o).ok());
}

TEST_F(PipelineTest, SplitAndCap) {
  PipelineOptions o = Options();
  o.split = "C027:layers[0:80%]";
  auto p = Open(o);
  EXPECT_EQ(p->split_size(), 16);
  o.split = "all";
  o.max_samples = 12;
  auto capped = Open(o);
  EXPECT_EQ(capped->num_samples(), 12);
  auto again = Open(o);
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(capped->line_of_sample(i), again->line_of_sample(i));
}

TEST_F(PipelineTest, UnlabelledGivesZeroTargets) {
  PipelineOptions o = Options();
  o.files = {dir_->File("unlabelled.hdf5")};
  auto p = Open(o);
  EXPECT_FALSE(p->labelled());
  for (const Batch& b : Epoch(p.get(), 0)) {
    EXPECT_FALSE(b.labelled);
    for (float t : b.targets) EXPECT_EQ(t, 0.0f);
  }
}

TEST_F(PipelineTest, BadOptions) {
  PipelineOptions o = Options();
  o.batch_size = 41;
  auto p = Pipeline::Open(o);
  ASSERT_FALSE(p.ok());
  EXPECT_PRED2(Contains, std::string(p.status().message()), "fewer than one batch");
  o = Options();
  o.rank = 2;
  EXPECT_FALSE(Pipeline::Open(o).ok());
  o = Options();
  o.split = "C027:layers[0:0]";
  EXPECT_PRED2(Contains, std::string(Pipeline::Open(o).status().message()),
               "selects no scan lines");
  o = Options();
  o.files = {dir_->File("missing.hdf5")};
  EXPECT_EQ(Pipeline::Open(o).status().code(), absl::StatusCode::kNotFound);
  auto q = Open(Options());
  Batch b;
  EXPECT_EQ(q->Next(&b).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace edgeloop::data
