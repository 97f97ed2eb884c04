// TrimTrainingLog: what a resumed run keeps of log.jsonl.
#include "supernet/train/training_log.h"

#include <string>

#include "base/atomic_file.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace edgeloop::supernet::train {
namespace {

TEST(TrainingLogTest, KeepsTheStepsUpToTheCheckpointAndDropsATornLine) {
  testing::TempDir dir;
  const std::string path = dir.File("log.jsonl");
  ASSERT_TRUE(WriteFileAtomically(path,
                                  "{\"step\":1,\"loss\":{\"max\":2}}\n"
                                  "{\"note\":\"no step\"}\n"
                                  "{\"step\":2,\"loss\":{\"max\":1.5}}\n"
                                  "{\"step\":2,\"val_mse\":{\"max\":1}}\n"
                                  "{\"step\":3,\"loss\":{\"max\":1.2}}\n"
                                  "{\"step\":4,\"lo")
                  .ok());
  ASSERT_TRUE(TrimTrainingLog(path, 2).ok());
  EXPECT_EQ(*ReadFile(path),
            "{\"step\":1,\"loss\":{\"max\":2}}\n"
            "{\"note\":\"no step\"}\n"
            "{\"step\":2,\"loss\":{\"max\":1.5}}\n"
            "{\"step\":2,\"val_mse\":{\"max\":1}}\n");
  // Trimming again changes nothing; a log not written yet is fine.
  ASSERT_TRUE(TrimTrainingLog(path, 2).ok());
  EXPECT_EQ(*ReadFile(path).value().rbegin(), '\n');
  EXPECT_TRUE(TrimTrainingLog(dir.File("none.jsonl"), 5).ok());
}

}  // namespace
}  // namespace edgeloop::supernet::train
