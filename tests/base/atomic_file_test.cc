#include "base/atomic_file.h"

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

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

TEST(AtomicFileTest, MissingDirectoriesAreCreated) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.File("a/b/x"), "data").ok());
  EXPECT_EQ(*ReadFile(dir.File("a/b/x")), "data");
}

TEST(AtomicFileTest, AParentThatIsAFileIsAnError) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.File("f"), "data").ok());
  auto s = WriteFileAtomically(dir.File("f/x"), "data");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir.File("f/x")), std::string::npos) << s.message();
}

TEST(AtomicFileTest, ReadMissingIsNotFound) {
  auto r = ReadFile("/nonexistent_dir_edgeloop/x");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

// What killed writers left is removed at the next start; a live writer's file is not.
TEST(AtomicFileTest, StaleTempFilesOfDeadWritersAreRemoved) {
  testing::TempDir dir;
  const pid_t dead = fork();  // a pid that surely ran and is gone
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  const std::string d = std::to_string(dead), live = std::to_string(getppid());
  for (const std::string& name : std::vector<std::string>{
           "ckpt-000000003.pt.tmp." + d, "state.json.tmp." + d, "x.h5.tmp-" + d, "y.h5.tmp-" + d,
           "latest.tmp." + live, std::string("notes.tmp"), std::string("ckpt-000000006.pt")}) {
    ASSERT_TRUE(WriteFileAtomically(dir.File(name), "x").ok());
  }
  EXPECT_EQ(RemoveStaleTempFiles(dir.path(), "x.h5.tmp-"), 1);
  EXPECT_FALSE(PathExists(dir.File("x.h5.tmp-" + d)));
  EXPECT_TRUE(PathExists(dir.File("y.h5.tmp-" + d)));
  EXPECT_EQ(RemoveStaleTempFiles(dir.path()), 3);
  EXPECT_TRUE(PathExists(dir.File("latest.tmp." + live)));  // its writer still runs
  EXPECT_TRUE(PathExists(dir.File("notes.tmp")));
  EXPECT_TRUE(PathExists(dir.File("ckpt-000000006.pt")));
  EXPECT_EQ(RemoveStaleTempFiles(dir.File("missing")), 0);
}

}  // namespace
}  // namespace edgeloop
