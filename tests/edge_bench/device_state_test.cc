// Device state read from fake sysfs trees in a temporary directory: a desktop-like CPU tree
// with thermal zones, a Jetson-like tree, missing and unreadable files; the state
// fingerprint ignores momentary frequencies and temperatures and follows governors, caps,
// online cores and power modes.
#include "edge_bench/device_state.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace edgeloop::edge_bench {
namespace {

void Write(const std::string& root, const std::string& rel, const std::string& text) {
  const std::filesystem::path p = std::filesystem::path(root) / rel;
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << text << "\n";
}

// Four cores, cpu3 offline (no cpufreq), two thermal zones.
void MakeCpuTree(const std::string& root) {
  Write(root, "sys/devices/system/cpu/online", "0-2");
  for (int c = 0; c < 4; ++c) {
    const std::string dir = absl::StrCat("sys/devices/system/cpu/cpu", c, "/");
    if (c == 3) {
      Write(root, dir + "online", "0");
      continue;
    }
    Write(root, dir + "cpufreq/scaling_governor", "powersave");
    Write(root, dir + "cpufreq/scaling_cur_freq", "1200000");
    Write(root, dir + "cpufreq/scaling_min_freq", "600000");
    Write(root, dir + "cpufreq/scaling_max_freq", "1800000");
    Write(root, dir + "cpufreq/cpuinfo_max_freq", "1800000");
  }
  Write(root, "sys/devices/system/cpu/cpu0/thermal_throttle/core_throttle_count", "7");
  Write(root, "sys/devices/system/cpu/cpufreq/policy0/scaling_governor", "powersave");
  Write(root, "sys/class/thermal/thermal_zone0/type", "cpu-thermal");
  Write(root, "sys/class/thermal/thermal_zone0/temp", "52000");
  Write(root, "sys/class/thermal/thermal_zone0/trip_point_0_type", "critical");
  Write(root, "sys/class/thermal/thermal_zone0/trip_point_0_temp", "110000");
  Write(root, "sys/class/thermal/thermal_zone0/trip_point_1_type", "passive");
  Write(root, "sys/class/thermal/thermal_zone0/trip_point_1_temp", "85000");
  Write(root, "sys/class/thermal/thermal_zone1/type", "gpu-thermal");
  Write(root, "sys/class/thermal/thermal_zone1/temp", "90500");
  Write(root, "sys/class/thermal/thermal_zone1/trip_point_0_type", "hot");
  Write(root, "sys/class/thermal/thermal_zone1/trip_point_0_temp", "90000");
}

// A Jetson Orin-like tree: nvpmodel, EMC through the BPMP debugfs, GPU devfreq.
void MakeJetsonTree(const std::string& root) {
  MakeCpuTree(root);
  Write(root, "etc/nvpmodel.conf",
        "< POWER_MODEL ID=0 NAME=MAXN >\nCPU_ONLINE CORE_0 1\n"
        "< POWER_MODEL ID=1 NAME=MODE_15W >\nCPU_ONLINE CORE_0 1\n"
        "< PM_CONFIG DEFAULT=1 >");
  Write(root, "var/lib/nvpmodel/status", "pmode:0001 fmode:quiet");
  Write(root, "sys/kernel/debug/bpmp/debug/clk/emc/rate", "2133000000");
  Write(root, "sys/kernel/debug/bpmp/debug/clk/emc/max_rate", "3199000000");
  const std::string gpu = "sys/class/devfreq/17000000.ga10b/";
  Write(root, gpu + "governor", "nvhost_podgov");
  Write(root, gpu + "cur_freq", "305000000");
  Write(root, gpu + "min_freq", "305000000");
  Write(root, gpu + "max_freq", "918000000");
}

TEST(DeviceStateTest, ReadsCpusOnlineCoresAndThermalZones) {
  testing::TempDir dir;
  MakeCpuTree(dir.path());
  const DeviceState s = ReadDeviceState(dir.path());
  EXPECT_EQ(s.online_cpus(), "0-2");
  ASSERT_EQ(s.cpus_size(), 4);  // cpufreq/ is not a cpuN entry
  const CpuCoreState& c0 = s.cpus(0);
  EXPECT_EQ(c0.cpu(), 0);
  EXPECT_TRUE(c0.online());
  EXPECT_EQ(c0.governor(), "powersave");
  EXPECT_EQ(c0.cur_freq_khz(), 1200000);
  EXPECT_EQ(c0.min_freq_khz(), 600000);
  EXPECT_EQ(c0.max_freq_khz(), 1800000);
  EXPECT_EQ(c0.hw_max_freq_khz(), 1800000);
  EXPECT_EQ(c0.throttle_count(), 7);
  EXPECT_EQ(s.cpus(1).throttle_count(), -1);
  const CpuCoreState& c3 = s.cpus(3);
  EXPECT_FALSE(c3.online());
  EXPECT_EQ(c3.governor(), "unknown");
  EXPECT_EQ(c3.max_freq_khz(), 0);
  ASSERT_EQ(s.thermal_size(), 2);
  EXPECT_EQ(s.thermal(0).name(), "cpu-thermal");
  EXPECT_DOUBLE_EQ(s.thermal(0).temp_c(), 52.0);
  EXPECT_DOUBLE_EQ(s.thermal(0).passive_trip_c(), 85.0);  // not the critical one
  EXPECT_FALSE(s.thermal(0).throttling());
  EXPECT_TRUE(s.thermal(1).throttling());  // 90.5 C over its hot trip at 90 C
  // Not a Jetson.
  EXPECT_EQ(s.power_mode_id(), -1);
  EXPECT_EQ(s.power_mode_name(), "");
  EXPECT_EQ(s.emc_rate_hz(), 0);
  EXPECT_EQ(s.gpu_governor(), "");
}

TEST(DeviceStateTest, ReadsAJetsonTree) {
  testing::TempDir dir;
  MakeJetsonTree(dir.path());
  const DeviceState s = ReadDeviceState(dir.path());
  EXPECT_EQ(s.power_mode_id(), 1);
  EXPECT_EQ(s.power_mode_name(), "MODE_15W");
  EXPECT_EQ(s.emc_rate_hz(), 2133000000);
  EXPECT_EQ(s.emc_max_rate_hz(), 3199000000);
  EXPECT_EQ(s.gpu_governor(), "nvhost_podgov");
  EXPECT_EQ(s.gpu_cur_freq_hz(), 305000000);
  EXPECT_EQ(s.gpu_min_freq_hz(), 305000000);
  EXPECT_EQ(s.gpu_max_freq_hz(), 918000000);
  // Xavier and older: /sys/devices/gpu.0/devfreq/<node> is preferred.
  Write(dir.path(), "sys/devices/gpu.0/devfreq/17000000.gv11b/max_freq", "1377000000");
  EXPECT_EQ(ReadDeviceState(dir.path()).gpu_max_freq_hz(), 1377000000);
}

TEST(DeviceStateTest, MissingAndUnreadableFilesAreUnknownNeverACrash) {
  testing::TempDir dir;
  const DeviceState empty = ReadDeviceState(dir.path());
  EXPECT_EQ(empty.online_cpus(), "unknown");
  EXPECT_EQ(empty.cpus_size(), 0);
  EXPECT_EQ(empty.thermal_size(), 0);
  EXPECT_EQ(empty.power_mode_id(), -1);
  EXPECT_EQ(ReadDeviceState(dir.File("does-not-exist")).online_cpus(), "unknown");

  MakeJetsonTree(dir.path());
  // A directory where a file should be cannot be read (root reads any mode-000 file).
  const std::string gov = dir.File("sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  std::filesystem::remove(gov);
  std::filesystem::create_directories(gov);
  Write(dir.path(), "sys/devices/system/cpu/cpu1/cpufreq/scaling_max_freq", "fast");
  Write(dir.path(), "sys/devices/system/cpu/online", "0-x");  // malformed
  Write(dir.path(), "var/lib/nvpmodel/status", "garbage");
  std::filesystem::remove(dir.File("sys/class/thermal/thermal_zone0/temp"));
  const DeviceState s = ReadDeviceState(dir.path());
  EXPECT_EQ(s.cpus(0).governor(), "unknown");
  EXPECT_EQ(s.cpus(1).max_freq_khz(), 0);
  EXPECT_TRUE(s.cpus(1).online());  // per-core files when the list is malformed
  EXPECT_FALSE(s.cpus(3).online());
  EXPECT_EQ(s.power_mode_id(), -1);
  EXPECT_DOUBLE_EQ(s.thermal(0).temp_c(), 0);
  EXPECT_FALSE(s.thermal(0).throttling());
  EXPECT_EQ(DeviceStateFingerprint(s).size(), 16u);
}

TEST(DeviceStateTest, FingerprintIgnoresMomentaryValuesAndFollowsSettings) {
  testing::TempDir dir;
  MakeJetsonTree(dir.path());
  const DeviceState start = ReadDeviceState(dir.path());
  const std::string fp = DeviceStateFingerprint(start);
  ASSERT_EQ(fp.size(), 16u);
  EXPECT_EQ(DeviceStateFingerprint(ReadDeviceState(dir.path())), fp);

  // Current frequencies, temperatures, throttle counts and the EMC rate move; fp does not.
  Write(dir.path(), "sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1800000");
  Write(dir.path(), "sys/class/thermal/thermal_zone0/temp", "99000");
  Write(dir.path(), "sys/devices/system/cpu/cpu0/thermal_throttle/core_throttle_count", "70");
  Write(dir.path(), "sys/kernel/debug/bpmp/debug/clk/emc/rate", "665000000");
  Write(dir.path(), "sys/class/devfreq/17000000.ga10b/cur_freq", "918000000");
  const DeviceState moved = ReadDeviceState(dir.path());
  EXPECT_TRUE(moved.thermal(0).throttling());
  EXPECT_EQ(DeviceStateFingerprint(moved), fp);
  EXPECT_EQ(DescribeStateChange(start, moved), "");

  // Each setting changes it, and the description names it.
  struct Case {
    std::string file, value, change;
  };
  const Case cases[] = {
      {"sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", "performance",
       "cpu0 governor powersave -> performance"},
      {"sys/devices/system/cpu/cpu2/cpufreq/scaling_max_freq", "1000000",
       "cpu2 max freq 1800000 kHz -> 1000000 kHz"},
      {"sys/devices/system/cpu/online", "0-1", "online cpus 0-2 -> 0-1"},
      {"var/lib/nvpmodel/status", "pmode:0000", "power mode 1 MODE_15W -> 0 MAXN"},
      {"sys/kernel/debug/bpmp/debug/clk/emc/max_rate", "2133000000",
       "emc max rate 3199000000 Hz -> 2133000000 Hz"},
      {"sys/class/devfreq/17000000.ga10b/min_freq", "918000000",
       "gpu min freq 305000000 Hz -> 918000000 Hz"},
  };
  for (const Case& c : cases) {
    testing::TempDir d;
    MakeJetsonTree(d.path());
    Write(d.path(), c.file, c.value);
    const DeviceState changed = ReadDeviceState(d.path());
    EXPECT_NE(DeviceStateFingerprint(changed), fp) << c.file;
    EXPECT_NE(DescribeStateChange(start, changed).find(c.change), std::string::npos)
        << DescribeStateChange(start, changed);
  }
}

TEST(DeviceStateTest, MachineIsUnamesMachine) {
  const std::string m = MachineArch();
  EXPECT_FALSE(m.empty());
  EXPECT_NE(m, "unknown");
#if defined(__aarch64__)
  EXPECT_EQ(m, "aarch64");
#elif defined(__x86_64__)
  EXPECT_EQ(m, "x86_64");
#endif
}

}  // namespace
}  // namespace edgeloop::edge_bench
