#include "dist/launch_env.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace edgeloop::dist {
namespace {

GetEnvFn Env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(LaunchEnvTest, SingleProcessByDefault) {
  auto e = LaunchEnvFromEnvironment(Env({}));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->world_size, 1);
  EXPECT_EQ(e->source, "single");
}

TEST(LaunchEnvTest, Torchrun) {
  auto e = LaunchEnvFromEnvironment(Env({{"RANK", "3"},
                                         {"WORLD_SIZE", "8"},
                                         {"LOCAL_RANK", "1"},
                                         {"MASTER_ADDR", "node7"},
                                         {"MASTER_PORT", "29600"}}));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->source, "torchrun");
  EXPECT_EQ(e->rank, 3);
  EXPECT_EQ(e->world_size, 8);
  EXPECT_EQ(e->local_rank, 1);
  EXPECT_EQ(e->master_addr, "node7");
  EXPECT_EQ(e->master_port, 29600);
}

TEST(LaunchEnvTest, Slurm) {
  auto e = LaunchEnvFromEnvironment(Env({{"SLURM_PROCID", "5"},
                                         {"SLURM_NTASKS", "8"},
                                         {"SLURM_LOCALID", "1"},
                                         {"SLURM_JOB_ID", "123456"},
                                         {"SLURM_JOB_NODELIST", "dp-esb[03-04,07],dp-cn01"}}));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->source, "slurm");
  EXPECT_EQ(e->rank, 5);
  EXPECT_EQ(e->world_size, 8);
  EXPECT_EQ(e->local_rank, 1);
  EXPECT_EQ(e->master_addr, "dp-esb03");
  EXPECT_EQ(e->master_port, 20000 + 3456);
}

TEST(LaunchEnvTest, SlurmHostLists) {
  EXPECT_EQ(*FirstSlurmHost("node17"), "node17");
  EXPECT_EQ(*FirstSlurmHost("gpu[001-004]"), "gpu001");
  EXPECT_EQ(*FirstSlurmHost("a[9,2-3]-ib,b1"), "a9-ib");
  EXPECT_EQ(*FirstSlurmHost("x1,x2"), "x1");
  EXPECT_FALSE(FirstSlurmHost("").ok());
  EXPECT_FALSE(FirstSlurmHost("node[").ok());
  EXPECT_FALSE(FirstSlurmHost("node[a-b]").ok());
}

TEST(LaunchEnvTest, BadValuesNameTheVariable) {
  auto e = LaunchEnvFromEnvironment(Env({{"RANK", "two"}, {"WORLD_SIZE", "4"}}));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("RANK='two'"), std::string::npos);
  e = LaunchEnvFromEnvironment(Env({{"RANK", "4"}, {"WORLD_SIZE", "4"}}));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("rank 4 is not below the world size 4"), std::string::npos);
  e = LaunchEnvFromEnvironment(Env({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "99999"}}));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("MASTER_PORT='99999'"), std::string::npos);
}

}  // namespace
}  // namespace edgeloop::dist
