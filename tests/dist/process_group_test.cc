// Two real processes on loopback, joined through c10d (TCPStore + Gloo).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace edgeloop::dist {
namespace {

std::string Probe() { return testing::BinaryDir() + "/tests/dist/dist_probe"; }

// Runs two ranks concurrently; returns the combined output and both exit codes.
testing::CommandResult RunTwoRanks(const std::string& mode, int timeout_ms) {
  const int port = testing::FreeLoopbackPort();
  auto rank = [&](int r) {
    return absl::StrCat("RANK=", r, " WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=", port, " ",
                        Probe(), " ", mode, " ", timeout_ms);
  };
  return testing::RunCommand(
      absl::StrCat("{ (", rank(0), "; echo rc0=$?) & (", rank(1), "; echo rc1=$?); wait; } 2>&1"));
}

TEST(DistributedTest, AllReduceMeanOverTwoRanks) {
  auto r = RunTwoRanks("allreduce", 20000);
  // a: 15 elements of mean(1, 2) = 1.5 -> 22.5; b: arange(7) * 1.5 -> 31.5.
  EXPECT_NE(r.out.find("rank 0 backend gloo a 22.5000 b 31.5000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rank 1 backend gloo a 22.5000 b 31.5000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rc0=0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rc1=0"), std::string::npos) << r.out;
}

TEST(DistributedTest, BroadcastFromRankZero) {
  auto r = RunTwoRanks("broadcast", 20000);
  EXPECT_NE(r.out.find("rank 1 backend gloo a 15.0000 b 21.0000"), std::string::npos) << r.out;
}

TEST(DistributedTest, DeadRankMakesTheOtherFailNotHang) {
  auto r = RunTwoRanks("die", 5000);
  EXPECT_NE(r.out.find("rc0=4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rank 0/2: all-reduce failed"), std::string::npos) << r.out;
}

TEST(DistributedTest, UnreachableMasterIsAClearError) {
  const int port = testing::FreeLoopbackPort();  // nothing listens there
  auto r = testing::RunCommand(
      absl::StrCat("RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=", port, " ", Probe(),
                   " allreduce 2000"));
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("cannot reach the rendezvous at 127.0.0.1:"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace edgeloop::dist
