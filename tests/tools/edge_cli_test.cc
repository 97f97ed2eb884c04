// The edge agent's command set: every build has the edge commands; the edge-only build
// (cmake -DEDGELOOP_EDGE_ONLY=ON) has nothing else, refuses the others as unknown commands
// (exit 2) and links none of HDF5, XGBoost and SQLite.
#include <string>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace edgeloop {
namespace {

constexpr const char* kEdgeCommands[] = {"serve", "measure", "init", "export", "supernet bench"};
constexpr const char* kOtherCommands[] = {"eval", "train",      "search",     "pipeline",
                                          "data", "space info", "store info", "predictor fit"};

TEST(EdgeCliCommandsTest, HelpListsTheEdgeCommands) {
  auto r = testing::RunEdgeloop("--help");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* c : kEdgeCommands)
    EXPECT_NE(r.out.find(std::string("\n  ") + c + " "), std::string::npos) << c << "\n" << r.out;
  for (const char* c : kEdgeCommands) {
    auto help = testing::RunEdgeloop(std::string(c) + " --help");
    EXPECT_EQ(help.exit_code, 0) << c << ": " << help.out;
  }
}

TEST(EdgeCliCommandsTest, EdgeCommandsRefuseBadInputWithExitTwo) {
  auto r = testing::RunEdgeloop("measure --edge ws://127.0.0.1:1 --arch '{\"embed_dim\": 7'");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  r = testing::RunEdgeloop("serve --listen 127.0.0.1:0 --sysfs-root /nonexistent/root");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("flag --sysfs-root: no such directory: /nonexistent/root"),
            std::string::npos)
      << r.out;
  r = testing::RunEdgeloop("supernet bench --arch min --batch 0");
  EXPECT_EQ(r.exit_code, 2) << r.out;
}

#if EDGELOOP_EDGE_ONLY_TEST
TEST(EdgeCliCommandsTest, EdgeOnlyBuildHasNothingElse) {
  auto help = testing::RunEdgeloop("--help");
  for (const char* c : kOtherCommands) {
    EXPECT_EQ(help.out.find(std::string("\n  ") + c + " "), std::string::npos) << c;
    auto r = testing::RunEdgeloop(c);
    EXPECT_EQ(r.exit_code, 2) << c << ": " << r.out;
    EXPECT_NE(r.out.find("unknown command"), std::string::npos) << c << ": " << r.out;
  }
  auto version = testing::RunEdgeloop("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("LibTorch "), std::string::npos) << version.out;
  EXPECT_NE(version.out.find("Boost "), std::string::npos) << version.out;
  for (const char* lib : {"HDF5", "XGBoost", "SQLite"})
    EXPECT_EQ(version.out.find(lib), std::string::npos) << lib << ": " << version.out;
  // Nor does the binary link them (its own NEEDED entries: LibTorch's dependencies, such as
  // OpenCV's HDF5, are LibTorch's business).
  auto needed = testing::RunCommand("readelf -d " + testing::EdgeloopBinary());
  ASSERT_NE(needed.out.find("(NEEDED)"), std::string::npos) << needed.out;
  EXPECT_NE(needed.out.find("libprotobuf"), std::string::npos) << needed.out;
  for (const char* lib : {"libhdf5", "libxgboost", "libsqlite3"})
    EXPECT_EQ(needed.out.find(lib), std::string::npos) << lib << ": " << needed.out;
}
#else
TEST(EdgeCliCommandsTest, FullBuildHasTheOtherCommandsToo) {
  auto help = testing::RunEdgeloop("--help");
  for (const char* c : kOtherCommands)
    EXPECT_NE(help.out.find(std::string("\n  ") + c), std::string::npos) << c << help.out;
}
#endif

}  // namespace
}  // namespace edgeloop
