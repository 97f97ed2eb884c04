#include "base/atomic_file.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace edgeloop {
namespace {

TEST(AtomicFileTest, WritesAndReplaces) {
  testing::TempDir dir;
  std::string path = dir.File("state.json");
  ASSERT_TRUE(WriteFileAtomically(path, "first").ok());
  EXPECT_EQ(*ReadFile(path), "first");
  ASSERT_TRUE(WriteFileAtomically(path, "second, longer").ok());
  EXPECT_EQ(*ReadFile(path), "second, longer");
  // No temporary files are left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(AtomicFileTest, MissingDirectoryIsAnError) {
  auto s = WriteFileAtomically("/nonexistent_dir_edgeloop/x", "data");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("nonexistent_dir_edgeloop"), std::string::npos);
}

TEST(AtomicFileTest, ReadMissingIsNotFound) {
  auto r = ReadFile("/nonexistent_dir_edgeloop/x");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace edgeloop
