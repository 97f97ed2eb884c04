// The flag parser's own checks (tools/cli/flags.h): numeric ranges and path kinds, in the
// parser and through the real `edgeloop` binary, one case per value a command once took
// silently or crashed on.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/test_util.h"
#include "tools/cli/flags.h"

namespace edgeloop {
namespace {

using testing::RunEdgeloop;
using testing::SourcePath;

void Touch(const std::string& path, const std::string& text = "") {
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr) << path;
  std::fputs(text.c_str(), f);
  std::fclose(f);
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(FlagRangeTest, NumbersOutsideTheirRangeOrNotFiniteAreRefused) {
  int64_t threads = 1, warmup = -1;
  double lr = 0.001, plain = 0;
  cli::FlagSet f("test", "summary");
  f.Int("threads", &threads, "threads", cli::Between(1, 1024));
  f.Int("warmup", &warmup, "warm-up (-1: auto)", cli::AtLeast(0).Or(-1));
  f.Double("lr", &lr, "rate", cli::Positive().AtMost(10));
  f.Double("plain", &plain, "no declared range");
  EXPECT_TRUE(f.Parse({"--threads", "1024", "--warmup", "-1", "--lr", "10", "--plain", "-3"}).ok());
  EXPECT_EQ(threads, 1024);
  EXPECT_EQ(warmup, -1);
  EXPECT_TRUE(f.Parse({"--warmup", "0"}).ok());

  EXPECT_EQ(Message(f.Parse({"--threads", "0"})), "flag --threads: got 0, expected in [1, 1024]");
  EXPECT_EQ(Message(f.Parse({"--threads", "99999999999999999999"})),
            "flag --threads: '99999999999999999999' is out of range, expected in [1, 1024]");
  EXPECT_EQ(Message(f.Parse({"--warmup", "-5"})), "flag --warmup: got -5, expected -1 or >= 0");
  EXPECT_EQ(Message(f.Parse({"--lr", "0"})), "flag --lr: got 0, expected in (0, 10]");
  EXPECT_EQ(Message(f.Parse({"--lr", "1e30"})), "flag --lr: got 1e30, expected in (0, 10]");
  for (const char* v : {"nan", "inf", "-inf"}) {
    EXPECT_EQ(Message(f.Parse({"--lr", v})),
              std::string("flag --lr: got ") + v + ", expected a finite number in (0, 10]");
    // A Double flag without a declared range still refuses non-finite values.
    EXPECT_EQ(Message(f.Parse({"--plain", v})),
              std::string("flag --plain: got ") + v + ", expected a finite number");
  }
}

TEST(FlagRangeTest, RangesReadAsTheyAreDeclaredAndShowInTheHelp) {
  EXPECT_EQ(cli::Fraction().ToString(), "in [0, 1]");
  EXPECT_EQ(cli::Positive().ToString(), "> 0");
  EXPECT_EQ(cli::Range().Below(5).ToString(), "< 5");
  EXPECT_EQ(cli::Between(2, cli::kIntMax).Or(0).ToString(), "0 or in [2, 2147483647]");
  EXPECT_FALSE(cli::Range().Above(0).Below(1).Contains(1));
  EXPECT_TRUE(cli::Range().AllowNonFinite().Contains(std::nan("")));
  int64_t folds = 5;
  cli::FlagSet f("test", "summary");
  f.Int("folds", &folds, "cross-validation folds", cli::Between(2, 100).Or(0));
  EXPECT_NE(
      f.Usage().find("--folds INT\n      cross-validation folds (default: 5; 0 or in [2, 100])"),
      std::string::npos)
      << f.Usage();
}

TEST(FlagPathTest, PathsAreCheckedForWhatTheyMustBe) {
  testing::TempDir dir;
  const std::string file = dir.File("a.txt"), sub = dir.File("sub");
  Touch(file, "x");
  std::filesystem::create_directory(sub);
  std::string in, out, outdir, list, arch;
  cli::FlagSet f("test", "summary");
  f.String("in", &in, "input", cli::InputFile());
  f.String("out", &out, "output", cli::OutputFile());
  f.String("outdir", &outdir, "output directory", cli::OutputDir());
  f.String("list", &list, "inputs", cli::InputPath().List());
  f.String("arch", &arch, "architecture", cli::InputFileIfPathLike());
  EXPECT_TRUE(f.Parse({"--in", file, "--out", dir.File("new.json"), "--outdir", dir.File("x/y"),
                       "--list", file + "," + sub, "--arch", "baseline"})
                  .ok());
  EXPECT_TRUE(f.Parse({"--arch", R"({"embed_dim": 96, "x": "a/b"})"}).ok());

  EXPECT_EQ(Message(f.Parse({"--in", dir.File("none.txt")})),
            "flag --in: no such file: " + dir.File("none.txt"));
  EXPECT_EQ(Message(f.Parse({"--in", sub})),
            "flag --in: " + sub + " is a directory, expected a file");
  EXPECT_EQ(Message(f.Parse({"--out", sub})),
            "flag --out: " + sub + " is a directory, expected a file to write");
  EXPECT_EQ(Message(f.Parse({"--out", file + "/x.json"})),
            "flag --out: cannot create " + file + "/x.json: " + file + " is not a directory");
  EXPECT_EQ(Message(f.Parse({"--outdir", file})),
            "flag --outdir: " + file + " exists and is not a directory");
  EXPECT_EQ(Message(f.Parse({"--list", file + "," + dir.File("gone.h5")})),
            "flag --list: no such file: " + dir.File("gone.h5"));
  EXPECT_EQ(Message(f.Parse({"--arch", sub + "/"})),
            "flag --arch: " + sub + "/ is a directory, expected a file");
  if (geteuid() != 0) {  // root reads and writes whatever the mode says
    const std::string locked = dir.File("locked.txt");
    Touch(locked, "x");
    std::filesystem::permissions(locked, std::filesystem::perms::none);
    EXPECT_NE(Message(f.Parse({"--in", locked})).find(locked + " is not readable"),
              std::string::npos);
  }
}

// Every value the hardening review found taken silently, crashing, or answered with the
// wrong code: one error line naming the flag, exit 2, before any work starts.
TEST(FlagValidationCliTest, EveryInvalidValueIsOneLineAndExitTwo) {
  testing::TempDir dir;
  const std::string data = dir.File("lpbf.h5"), sub = dir.File("adir"), csv = dir.File("t.csv");
  Touch(data);
  Touch(csv, "a,b,latency_ms\n1,2,3\n2,3,4\n");
  std::filesystem::create_directory(sub);
  const std::string space = " --space " + SourcePath("supernet/spaces/tiny.textproto");
  const std::string train = "train --data " + data + " --out " + dir.File("run") + space;
  struct Case {
    std::string args, expected;
  };
  const std::vector<Case> cases = {
      {train + " --checkpoint-every 0", "flag --checkpoint-every: got 0, expected >= 1"},
      {train + " --checkpoint-every -1", "flag --checkpoint-every: got -1, expected >= 1"},
      {train + " --log-every 0", "flag --log-every: got 0, expected >= 1"},
      {train + " --lr inf", "flag --lr: got inf, expected a finite number in (0, 10]"},
      {train + " --lr 1e30", "flag --lr: got 1e30, expected in (0, 10]"},
      {train + " --weight-decay nan", "flag --weight-decay: got nan, expected a finite number"},
      {train + " --distill-weight nan", "flag --distill-weight: got nan, expected a finite"},
      {train + " --clip-norm -1", "flag --clip-norm: got -1, expected >= 0"},
      {train + " --threads 0", "flag --threads: got 0, expected in [1, 1024]"},
      {train + " --threads -2", "flag --threads: got -2, expected in [1, 1024]"},
      {train + " --keep-checkpoints -1", "flag --keep-checkpoints: got -1"},
      {train + " --warmup-steps -5", "flag --warmup-steps: got -5, expected -1 or >= 0"},
      {train + " --val-samples -1", "flag --val-samples: got -1, expected >= 1"},
      {train + " --shrink-phases 0.9,0.1",
       "flag --shrink-phases: got '0.9,0.1', expected two non-decreasing fractions"},
      {train + " --shrink-phases 0.5", "flag --shrink-phases: got '0.5', expected two"},
      {"train --data " + dir.File("missing.h5") + " --out " + dir.File("run") + space,
       "flag --data: no such file: " + dir.File("missing.h5")},
      {"train --data " + data + " --out " + dir.File("run") + " --space " + sub,
       "flag --space: " + sub + " is a directory, expected a file"},
      {"search --mutation nan", "flag --mutation: got nan, expected a finite number in [0, 1]"},
      {"search --crossover 1.5", "flag --crossover: got 1.5, expected in [0, 1]"},
      {"serve --max-gflops nan", "flag --max-gflops: got nan, expected a finite number"},
      {"serve --max-gflops 1e300", "flag --max-gflops: got 1e300, expected in (0, 1000000000]"},
      {"serve --max-batch 3000000000",
       "flag --max-batch: got 3000000000, expected in [1, 1048576]"},
      {"serve --idle-timeout nan", "flag --idle-timeout: got nan, expected a finite number"},
      {"serve --idle-timeout inf", "flag --idle-timeout: got inf, expected a finite number"},
      {"serve --max-request-seconds 0", "flag --max-request-seconds: got 0, expected in (0, "},
      {"serve --cache " + sub,
       "flag --cache: " + sub + " is a directory, expected a file to write"},
      {"serve --token-file " + dir.File("no-token"),
       "flag --token-file: no such file: " + dir.File("no-token")},
      {"measure --edge ws://127.0.0.1:1 --arch baseline --timeout -1",
       "flag --timeout: got -1, expected in (0, 10000000]"},
      {"measure --edge ws://127.0.0.1:1 --arch baseline --timeout nan",
       "flag --timeout: got nan, expected a finite number"},
      {"measure --edge ws://127.0.0.1:1 --arch " + sub + "/",
       "flag --arch: " + sub + "/ is a directory, expected a file"},
      {"data synth --out " + sub,
       "flag --out: " + sub + " is a directory, expected a file to write"},
      {"store export --db " + dir.File("s.db") + " --csv " + sub,
       "flag --csv: " + sub + " is a directory, expected a file to write"},
      {"store import --db " + dir.File("s.db") + " --csv " + sub,
       "flag --csv: " + sub + " is a directory, expected a file"},
      {"space info --space " + sub, "flag --space: " + sub + " is a directory, expected a file"},
      {"predictor fit --db " + dir.File("s.db") + " --device d --target bogus --out " +
           dir.File("m.json"),
       "flag --target: got \"bogus\"; with --db the target is the measured median latency"},
      {"predictor fit --db " + dir.File("s.db") + " --device d --features bogus --out " +
           dir.File("m.json"),
       "flag --features: no feature \"bogus\" with --db"},
      {"predictor fit --csv " + csv + " --target bogus --out " + dir.File("m.json"),
       "flag --target: no column \"bogus\" in " + csv + " (columns: a, b, latency_ms)"},
      {"predictor fit --csv " + csv + " --target latency_ms --features a,bogus --out " +
           dir.File("m.json"),
       "flag --features: no column \"bogus\""},
      {"predictor fit --csv " + csv + " --target latency_ms --folds 1 --out " + dir.File("m.json"),
       "flag --folds: got 1, expected 0 or in [2, 2147483647]"},
      {"predictor export --db " + dir.File("s.db") + " --device d --version -1 --out " +
           dir.File("m.json"),
       "flag --version: got -1, expected >= 0"},
  };
  for (const Case& c : cases) {
    auto r = RunEdgeloop(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.expected), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << c.args << "\n" << r.out;
  }
  // Nothing was created by the refused commands.
  EXPECT_FALSE(std::filesystem::exists(dir.File("run")));
  EXPECT_FALSE(std::filesystem::exists(dir.File("m.json")));
}

}  // namespace
}  // namespace edgeloop
