// The schedule of supernet training (supernet/train/sandwich.h) as plain functions: no
// data, no model, no command line.
#include "supernet/train/sandwich.h"

#include <set>
#include <string>
#include <vector>

#include "arch/arch_config.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace edgeloop::supernet::train {
namespace {

arch::Space Tiny() {  // resolutions 32 and 48, 512 architectures
  auto space = arch::Space::FromFile(testing::SourcePath("supernet/spaces/tiny.textproto"));
  EXPECT_TRUE(space.ok()) << space.status();
  return *space;
}

std::vector<std::string> Names(const std::vector<Member>& members) {
  std::vector<std::string> names;
  for (const Member& m : members) names.push_back(m.name);
  return names;
}

TEST(ShrinkPhaseTest, CountsTheBoundariesReached) {
  const std::vector<double> boundaries = {0.2, 0.4};
  for (int64_t step = 0; step < 10; ++step) {
    EXPECT_EQ(ShrinkPhase(false, boundaries, step, 10), 2) << step;
    const int want = step < 2 ? 0 : step < 4 ? 1 : 2;
    EXPECT_EQ(ShrinkPhase(true, boundaries, step, 10), want) << step;
  }
  EXPECT_EQ(ShrinkPhase(true, {0.1, 0.2, 0.3}, 9, 10), 2);  // never past phase 2
  EXPECT_EQ(ShrinkPhase(true, {}, 0, 10), 0);
}

TEST(RestrictTest, OpensDepthAndMlpRatioThenEverything) {
  const arch::Space space = Tiny();
  const ArchConfig max = space.Max(), min = space.Min();
  ArchConfig want = max;
  want.set_resolution(min.resolution());
  EXPECT_TRUE(arch::ArchEqual(Restrict(min, max, 0), want));
  *want.mutable_depths() = min.depths();
  want.set_mlp_ratio(min.mlp_ratio());
  const ArchConfig phase1 = Restrict(min, max, 1);
  EXPECT_TRUE(arch::ArchEqual(phase1, want)) << arch::CanonicalKey(phase1);
  EXPECT_EQ(phase1.embed_dim(), max.embed_dim());
  EXPECT_TRUE(arch::ArchEqual(Restrict(min, max, 2), min));
}

TEST(OpenResolutionsTest, TwoResolutionsOpenTheLargerAtTheFraction) {
  const std::vector<int> choices = {32, 48};
  for (int64_t step = 0; step < 10; ++step) {
    const std::vector<int> want = step < 5 ? std::vector<int>{32} : choices;
    EXPECT_EQ(OpenResolutions(choices, 0.5, step, 10), want) << step;
    EXPECT_EQ(OpenResolutions(choices, 0, step, 10), choices) << step;
  }
  EXPECT_EQ(OpenResolutions({32}, 0.5, 0, 10), std::vector<int>{32});
  // Not yet all open: ascending; all open: the space's order.
  EXPECT_EQ(OpenResolutions({48, 32}, 0.5, 0, 10), std::vector<int>{32});
  EXPECT_EQ(OpenResolutions({48, 32}, 0.5, 9, 10), (std::vector<int>{48, 32}));
}

TEST(OpenResolutionsTest, FiveResolutionsOpenOneByOne) {
  // The default space's choices: with 0.6, the k-th smallest joins at k/4 of 60%.
  const std::vector<int> choices = {224, 64, 96, 128, 160};
  auto open = [&](int64_t step) { return OpenResolutions(choices, 0.6, step, 100); };
  EXPECT_EQ(open(0), std::vector<int>{64});
  EXPECT_EQ(open(14), std::vector<int>{64});
  EXPECT_EQ(open(16), (std::vector<int>{64, 96}));
  EXPECT_EQ(open(29), (std::vector<int>{64, 96}));
  EXPECT_EQ(open(31), (std::vector<int>{64, 96, 128}));
  EXPECT_EQ(open(46), (std::vector<int>{64, 96, 128, 160}));
  EXPECT_EQ(open(59), (std::vector<int>{64, 96, 128, 160}));
  EXPECT_EQ(open(61), choices);
}

TEST(ResolutionForTest, UniformAndAFunctionOfSeedEpochAndIndex) {
  const std::vector<int> choices = {32, 48};
  int at48 = 0;
  bool seed_matters = false;
  for (int64_t index = 0; index < 200; ++index) {
    const int r = ResolutionFor(choices, 3, 1, index);
    ASSERT_TRUE(r == 32 || r == 48) << r;
    EXPECT_EQ(r, ResolutionFor(choices, 3, 1, index));
    at48 += r == 48;
    seed_matters |= r != ResolutionFor(choices, 4, 1, index);
  }
  EXPECT_GT(at48, 70);
  EXPECT_LT(at48, 130);
  EXPECT_TRUE(seed_matters);
  EXPECT_EQ(ResolutionFor({48}, 3, 1, 7), 48);
}

TEST(DistillWeightTest, OffThenALinearRamp) {
  EXPECT_EQ(DistillWeightAt(1.5, 0, 0, 100), 1.5);
  EXPECT_EQ(DistillWeightAt(1.0, 0.25, 0, 100), 0.0);
  EXPECT_EQ(DistillWeightAt(1.0, 0.25, 25, 100), 0.0);
  EXPECT_DOUBLE_EQ(DistillWeightAt(1.0, 0.25, 30, 100), 0.2);
  EXPECT_DOUBLE_EQ(DistillWeightAt(2.0, 0.25, 40, 100), 1.2);
  EXPECT_EQ(DistillWeightAt(1.0, 0.25, 50, 100), 1.0);
  EXPECT_EQ(DistillWeightAt(1.0, 0.25, 99, 100), 1.0);
}

TEST(SandwichMembersTest, MaxMinAndRandomDrawsOfTheStep) {
  const arch::Space space = Tiny();
  const std::vector<Member> members = SandwichMembers(space, 3, 2, 7, 48, 2);
  ASSERT_EQ(Names(members), (std::vector<std::string>{"max", "min", "rand1", "rand2"}));
  ArchConfig max = space.Max(), min = space.Min();
  max.set_resolution(48);
  min.set_resolution(48);
  EXPECT_TRUE(arch::ArchEqual(members[0].arch, max));
  EXPECT_TRUE(arch::ArchEqual(members[1].arch, min));
  for (const Member& m : members) {
    EXPECT_EQ(m.arch.resolution(), 48) << m.name;
    EXPECT_TRUE(space.Contains(m.arch).ok()) << m.name;
  }
  // A function of (seed, step): the same again, other draws at other steps and seeds.
  const std::vector<Member> again = SandwichMembers(space, 3, 2, 7, 48, 2);
  EXPECT_EQ(arch::CanonicalKey(again[2].arch), arch::CanonicalKey(members[2].arch));
  std::set<std::string> keys;
  for (int64_t step = 0; step < 8; ++step)
    keys.insert(arch::CanonicalKey(SandwichMembers(space, 3, 2, step, 48, 2)[2].arch));
  EXPECT_GT(keys.size(), 4u);
  bool seed_matters = false;
  for (int64_t step = 0; step < 8; ++step) {
    seed_matters |= arch::CanonicalKey(SandwichMembers(space, 4, 2, step, 48, 2)[2].arch) !=
                    arch::CanonicalKey(SandwichMembers(space, 3, 2, step, 48, 2)[2].arch);
  }
  EXPECT_TRUE(seed_matters);
}

TEST(SandwichMembersTest, ResolutionZeroKeepsEachMembersOwn) {
  const arch::Space space = Tiny();
  const std::vector<Member> members = SandwichMembers(space, 3, 0, 0, 0, 2);
  ASSERT_EQ(Names(members), (std::vector<std::string>{"max", "min"}));
  EXPECT_EQ(members[0].arch.resolution(), 48);
  EXPECT_EQ(members[1].arch.resolution(), 32);
}

TEST(SandwichMembersTest, ShrinkingPhasesRestrictTheMembers) {
  const arch::Space space = Tiny();
  EXPECT_EQ(Names(SandwichMembers(space, 3, 2, 0, 32, 0)), std::vector<std::string>{"max"});
  for (const Member& m : SandwichMembers(space, 3, 2, 0, 32, 1)) {
    EXPECT_EQ(m.arch.embed_dim(), space.Max().embed_dim()) << m.name;
    EXPECT_EQ(
        arch::CanonicalKey(m.arch),
        arch::CanonicalKey(Restrict(m.arch, SandwichMembers(space, 3, 2, 0, 32, 0)[0].arch, 1)));
  }
}

TEST(ValidationSubnetsTest, MinMaxAndABaselineInsideTheSpace) {
  const arch::Space tiny = Tiny();
  const ArchConfig arch = tiny.Min();
  const std::vector<Member> alone = ValidationSubnets(tiny, true, arch);
  ASSERT_EQ(Names(alone), std::vector<std::string>{"arch"});
  EXPECT_TRUE(arch::ArchEqual(alone[0].arch, arch));
  // tiny's "baseline" is the built-in one, far outside it.
  EXPECT_EQ(Names(ValidationSubnets(tiny, false, arch)), (std::vector<std::string>{"min", "max"}));
  SearchSpace spec = tiny.spec();
  NamedArch* named = spec.add_named();
  named->set_name("baseline");
  *named->mutable_arch() = tiny.Max();
  const std::vector<Member> with = ValidationSubnets(arch::Space(spec), false, arch);
  ASSERT_EQ(Names(with), (std::vector<std::string>{"min", "max", "baseline"}));
  EXPECT_TRUE(arch::ArchEqual(with[2].arch, tiny.Max()));
}

TEST(SingleArchSpaceTextTest, ASpaceOfExactlyTheArchitecture) {
  const arch::Space tiny = Tiny();
  Rng rng(9);
  for (int i = 0; i < 5; ++i) {
    const ArchConfig arch = tiny.Sample(&rng);
    auto space = arch::Space::FromText(SingleArchSpaceText(arch), "test");
    ASSERT_TRUE(space.ok()) << space.status() << "\n" << SingleArchSpaceText(arch);
    EXPECT_EQ(space->NumArchitectures(), 1u);
    EXPECT_TRUE(arch::ArchEqual(space->Max(), arch)) << arch::CanonicalKey(space->Max());
    EXPECT_EQ(space->name(), "arch_" + arch::CanonicalKey(arch));
  }
}

// ---- SandwichSchedule: the functions bound to a run ------------------------------------

SandwichOptions Options(double progressive, bool member_resolutions) {
  SandwichOptions o;
  o.seed = 3;
  o.progressive_resolution = progressive;
  o.member_resolutions = member_resolutions;
  return o;
}

// The resolutions of a step's members, as "max=48 min=32 rand1=32 rand2=48".
std::string MemberResolutions(const std::vector<Member>& members) {
  std::string out;
  for (const Member& m : members)
    out += (out.empty() ? "" : " ") + m.name + "=" + std::to_string(m.arch.resolution());
  return out;
}

TEST(SandwichScheduleTest, BatchesDrawFromTheResolutionsOpenAtTheirStep) {
  // 100 steps of 4 batches an epoch, 0.5: steps 0-49 at 32, then both; the step counts
  // across epochs.
  const SandwichSchedule schedule(Tiny(), Options(0.5, false), 100, 4);
  std::set<int> late;
  for (int64_t step = 0; step < 100; ++step) {
    const int r = schedule.BatchResolution(step / 4, step % 4);
    if (step < 50) {
      EXPECT_EQ(r, 32) << step;
    } else {
      late.insert(r);
    }
  }
  EXPECT_EQ(late, (std::set<int>{32, 48}));
  // Per step (no member resolutions), every member runs at the batch's.
  EXPECT_FALSE(schedule.member_resolutions());
  EXPECT_EQ(MemberResolutions(schedule.Members(60, 48)), "max=48 min=48 rand1=48 rand2=48");
  EXPECT_EQ(MemberResolutions(schedule.Members(60, 32)), "max=32 min=32 rand1=32 rand2=32");
}

TEST(SandwichScheduleTest, MemberResolutionsRunEachSubnetAtItsOwn) {
  const SandwichSchedule schedule(Tiny(), Options(0, true), 20, 4);
  ASSERT_TRUE(schedule.member_resolutions());
  std::set<std::string> random_resolutions;
  for (int64_t step = 0; step < 20; ++step) {
    const std::string s = MemberResolutions(schedule.Members(step, 48));
    EXPECT_EQ(s.rfind("max=48 min=32 rand1=", 0), 0u) << s;
    random_resolutions.insert(s.substr(s.find("rand1=") + 6, 2));
  }
  EXPECT_EQ(random_resolutions, (std::set<std::string>{"32", "48"}));
}

TEST(SandwichScheduleTest, MembersNotOpenYetRunAtTheLargestOpenResolution) {
  const SandwichSchedule schedule(Tiny(), Options(0.5, true), 10, 4);
  for (int64_t step = 0; step < 10; ++step) {
    const std::string s = MemberResolutions(schedule.Members(step, 48));
    const std::string want = step < 5 ? "max=32 min=32 rand1=32 rand2=32" : "max=48 min=32 rand1=";
    EXPECT_EQ(s.rfind(want, 0), 0u) << "step " << step << ": " << s;
  }
}

TEST(SandwichScheduleTest, OneResolutionHasNoMemberResolutions) {
  SearchSpace spec = Tiny().spec();
  spec.clear_resolution();
  spec.add_resolution(32);
  const SandwichSchedule schedule(arch::Space(spec), Options(0.5, true), 10, 4);
  EXPECT_FALSE(schedule.member_resolutions());
  EXPECT_EQ(schedule.BatchResolution(0, 0), 32);
  EXPECT_EQ(MemberResolutions(schedule.Members(0, 32)), "max=32 min=32 rand1=32 rand2=32");
}

TEST(SandwichScheduleTest, DistillationAndShrinkingFollowTheStepCount) {
  SandwichOptions o = Options(0, false);
  o.distill_weight = 2.0;
  o.progressive_shrinking = true;
  const SandwichSchedule schedule(Tiny(), o, 100, 4);
  EXPECT_EQ(schedule.total_steps(), 100);
  EXPECT_EQ(schedule.DistillWeight(10), 0.0);
  EXPECT_DOUBLE_EQ(schedule.DistillWeight(40), DistillWeightAt(2.0, 0.25, 40, 100));
  EXPECT_EQ(Names(schedule.Members(10, 32)), std::vector<std::string>{"max"});
  EXPECT_EQ(schedule.Members(30, 32).size(), 4u);
}

}  // namespace
}  // namespace edgeloop::supernet::train
