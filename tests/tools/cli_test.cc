// The CLI as a user runs it: the real `edgeloop` binary, its output and exit codes.
#include <cctype>
#include <cstdio>
#include <initializer_list>
#include <string>

#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tools/cli/flags.h"

namespace edgeloop {
namespace {

using testing::RunEdgeloop;
using testing::SourcePath;

// Expects `out` to contain each of `parts`.
void ExpectOutputContains(const std::string& out, std::initializer_list<std::string> parts) {
  for (const std::string& part : parts)
    EXPECT_NE(out.find(part), std::string::npos) << part << " in " << out;
}

const std::string kSpace = "--space " + SourcePath("supernet/spaces/swin3d_lpbf.textproto");

TEST(FlagSetTest, ParsesAllKinds) {
  std::string s = "d";
  int64_t i = 1;
  double x = 0.5;
  bool b = false, c = true;
  std::vector<std::string> pos;
  cli::FlagSet f("test", "summary");
  f.String("s", &s, "a string");
  f.Int("i", &i, "an int");
  f.Double("x", &x, "a double");
  f.Bool("b", &b, "a bool");
  f.Bool("c", &c, "another bool");
  f.Positional("FILE", &pos, "files");
  ASSERT_TRUE(f.Parse({"--s", "v", "--i=7", "--x", "2.5", "--b", "--noc", "file1"}).ok());
  EXPECT_EQ(s, "v");
  EXPECT_EQ(i, 7);
  EXPECT_EQ(x, 2.5);
  EXPECT_TRUE(b);
  EXPECT_FALSE(c);
  EXPECT_EQ(pos, std::vector<std::string>{"file1"});
  EXPECT_TRUE(f.WasSet("i"));
}

TEST(FlagSetTest, Errors) {
  int64_t i = 0;
  std::string r;
  cli::FlagSet f("test", "summary");
  f.Int("i", &i, "an int");
  f.String("r", &r, "required", true);
  auto s = f.Parse({"--i", "seven", "--r", "x"});
  EXPECT_NE(s.message().find("flag --i: 'seven' is not an integer"), std::string::npos);
  s = f.Parse({"--what", "1"});
  EXPECT_NE(s.message().find("unknown flag --what"), std::string::npos);
  cli::FlagSet g("test", "summary");
  g.String("r", &r, "required", true);
  s = g.Parse({});
  EXPECT_NE(s.message().find("missing required flag --r"), std::string::npos);
  s = g.Parse({"--r"});
  EXPECT_NE(s.message().find("flag --r needs a value"), std::string::npos);
}

TEST(CliTest, HelpListsCommands) {
  auto r = RunEdgeloop("--help");
  EXPECT_EQ(r.exit_code, 0);
  ExpectOutputContains(r.out, {"space info", "space sample"});
  r = RunEdgeloop("space info --help");
  EXPECT_EQ(r.exit_code, 0);
  ExpectOutputContains(r.out, {"--space", "--json"});
  r = RunEdgeloop("space --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("space validate"), std::string::npos);
  r = RunEdgeloop("");
  EXPECT_EQ(r.exit_code, 2);
  r = RunEdgeloop("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("unknown command 'frobnicate'"), std::string::npos);
}

TEST(CliTest, SpaceInfoText) {
  auto r = RunEdgeloop("space info " + kSpace);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ExpectOutputContains(r.out, {"architectures: 1,244,160", "28,232,336", "resolution"});
}

TEST(CliTest, SpaceInfoJson) {
  auto r = RunEdgeloop("space info --json " + kSpace);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ExpectOutputContains(
      r.out, {"\"architectures\":1244160", "\"baseline\":{\"params\":28232336,",
              "\"min\":{\"params\":", "\"max\":{\"params\":", "\"arch\":{\"patch_size\":[2,4,4]"});
}

TEST(CliTest, SpaceSampleIsDeterministic) {
  auto a = RunEdgeloop("space sample " + kSpace + " --n 5 --seed 3");
  auto b = RunEdgeloop("space sample " + kSpace + " --n 5 --seed 3");
  auto c = RunEdgeloop("space sample " + kSpace + " --n 5 --seed 4");
  ASSERT_EQ(a.exit_code, 0) << a.out;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  int lines = 0;
  for (char ch : a.out) lines += ch == '\n';
  EXPECT_EQ(lines, 5);
  EXPECT_EQ(a.out.rfind("{\"patch_size\":", 0), 0u);
}

TEST(CliTest, BadInputExitsTwoWithOneLine) {
  testing::TempDir dir;
  std::string bad = dir.File("bad.textproto");
  FILE* f = fopen(bad.c_str(), "w");
  fputs("name: \"x\"\nembed_dim: [24]\nbogus_field: 1\n", f);
  fclose(f);
  auto r = RunEdgeloop("space info --space " + bad);
  EXPECT_EQ(r.exit_code, 2);
  ExpectOutputContains(r.out, {"bad.textproto:3:1", "bogus_field"});

  r = RunEdgeloop("space info --space /nonexistent.textproto");
  EXPECT_EQ(r.exit_code, 2);
  r = RunEdgeloop("space info");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("missing required flag --space"), std::string::npos);
  r = RunEdgeloop("space sample " + kSpace + " --n -1");
  EXPECT_EQ(r.exit_code, 2);
  r = RunEdgeloop("space validate " + kSpace +
                  " --arch '{\"patch_size\":[2,4,4],\"embed_dim\":192,\"depths\":[2,2,6,2],"
                  "\"num_heads\":[3,6,12,24],\"mlp_ratio\":4}'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("'embed_dim': got 192"), std::string::npos) << r.out;
  r = RunEdgeloop("space validate " + kSpace + " --arch baseline");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("\"params\":28232336"), std::string::npos);
}

// `edgeloop --version` names edgeloop first, then every library the binary links, each with a
// dotted version.
TEST(CliTest, VersionNamesEdgeloopAndEveryLibrary) {
  auto r = RunEdgeloop("--version");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("edgeloop 0.", 0), 0u) << r.out;
  for (const char* name :
       {"LibTorch", "XGBoost", "SQLite", "Protobuf", "Abseil", "Boost", "OpenSSL", "HDF5"}) {
    const std::string line = std::string("\n") + name + " ";
    const size_t at = r.out.find(line);
    ASSERT_NE(at, std::string::npos) << name << " missing in:\n" << r.out;
    EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(r.out[at + line.size()]))) << r.out;
  }
  EXPECT_EQ(RunEdgeloop("--version extra").exit_code, 2);
}

}  // namespace
}  // namespace edgeloop
