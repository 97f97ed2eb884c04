#include "edge_bench/device_state.h"

#include <sys/utsname.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/hash.h"

namespace edgeloop::edge_bench {
namespace {

namespace fs = std::filesystem;

constexpr char kUnknown[] = "unknown";

// The first line of a file, trimmed; nullopt when it cannot be opened or read.
std::optional<std::string> ReadLine(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return std::string(absl::StripAsciiWhitespace(line));
}

std::string ReadString(const fs::path& path, const std::string& missing = kUnknown) {
  std::optional<std::string> line = ReadLine(path);
  return line && !line->empty() ? *line : missing;
}

int64_t ReadInt(const fs::path& path, int64_t missing = 0) {
  std::optional<std::string> line = ReadLine(path);
  int64_t v = 0;
  return line && absl::SimpleAtoi(*line, &v) ? v : missing;
}

// The N of the entries named `prefix`N in `dir`, ascending.
std::vector<int> NumberedEntries(const fs::path& dir, const std::string& prefix) {
  std::vector<int> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    int n = 0;
    if (absl::StartsWith(name, prefix) && absl::SimpleAtoi(name.substr(prefix.size()), &n) &&
        n >= 0)
      out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// "0-3,5" -> {0,1,2,3,5}; nullopt when malformed.
std::optional<std::set<int>> ParseCpuList(const std::string& text) {
  std::set<int> cpus;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::vector<absl::string_view> ends = absl::StrSplit(part, '-');
    int lo = 0, hi = 0;
    if (ends.size() > 2 || !absl::SimpleAtoi(ends[0], &lo) || !absl::SimpleAtoi(ends.back(), &hi) ||
        lo < 0 || hi < lo || hi - lo > 65536)
      return std::nullopt;
    for (int c = lo; c <= hi; ++c) cpus.insert(c);
  }
  return cpus;
}

void ReadCpus(const fs::path& root, DeviceState* state) {
  const fs::path cpu_dir = root / "sys/devices/system/cpu";
  state->set_online_cpus(ReadString(cpu_dir / "online"));
  const std::optional<std::set<int>> online = ParseCpuList(state->online_cpus());
  for (int n : NumberedEntries(cpu_dir, "cpu")) {
    const fs::path dir = cpu_dir / absl::StrCat("cpu", n);
    CpuCoreState* c = state->add_cpus();
    c->set_cpu(n);
    c->set_online(online ? online->count(n) > 0 : ReadInt(dir / "online", 1) != 0);
    c->set_governor(ReadString(dir / "cpufreq/scaling_governor"));
    c->set_cur_freq_khz(ReadInt(dir / "cpufreq/scaling_cur_freq"));
    c->set_min_freq_khz(ReadInt(dir / "cpufreq/scaling_min_freq"));
    c->set_max_freq_khz(ReadInt(dir / "cpufreq/scaling_max_freq"));
    c->set_hw_max_freq_khz(ReadInt(dir / "cpufreq/cpuinfo_max_freq"));
    c->set_throttle_count(ReadInt(dir / "thermal_throttle/core_throttle_count", -1));
  }
}

void ReadThermal(const fs::path& root, DeviceState* state) {
  const fs::path thermal = root / "sys/class/thermal";
  for (int n : NumberedEntries(thermal, "thermal_zone")) {
    const fs::path dir = thermal / absl::StrCat("thermal_zone", n);
    ThermalZoneState* z = state->add_thermal();
    z->set_name(ReadString(dir / "type"));
    z->set_temp_c(ReadInt(dir / "temp") / 1000.0);
    double trip = 0;
    // trip_point_N_type / trip_point_N_temp, N from 0 up.
    for (int t = 0; t < 64; ++t) {
      const std::string type = ReadString(dir / absl::StrCat("trip_point_", t, "_type"), "");
      if (type.empty()) break;
      if (type != "passive" && type != "hot") continue;
      const double c = ReadInt(dir / absl::StrCat("trip_point_", t, "_temp")) / 1000.0;
      if (c > 0 && (trip == 0 || c < trip)) trip = c;
    }
    z->set_passive_trip_c(trip);
    z->set_throttling(trip > 0 && z->temp_c() >= trip);
  }
}

// "pmode:0002 fmode:quiet" -> 2; the conf's "< POWER_MODEL ID=2 NAME=MODE_15W >" names it.
void ReadPowerMode(const fs::path& root, DeviceState* state) {
  state->set_power_mode_id(-1);
  const std::string status = ReadString(root / "var/lib/nvpmodel/status", "");
  const size_t at = status.find("pmode:");
  if (at == std::string::npos) return;
  size_t end = at + 6;
  while (end < status.size() && absl::ascii_isdigit(status[end])) ++end;
  int id = 0;
  if (!absl::SimpleAtoi(status.substr(at + 6, end - at - 6), &id)) return;
  state->set_power_mode_id(id);
  std::ifstream conf(root / "etc/nvpmodel.conf");
  const std::string want = absl::StrCat("ID=", id, " ");
  for (std::string line; std::getline(conf, line);) {
    if (!absl::StrContains(line, "POWER_MODEL") || !absl::StrContains(line, want)) continue;
    const size_t name = line.find("NAME=");
    if (name == std::string::npos) continue;
    std::string rest = line.substr(name + 5);
    state->set_power_mode_name(
        std::string(absl::StripAsciiWhitespace(rest.substr(0, rest.find_first_of(" \t>")))));
    break;
  }
}

// The GPU's devfreq node: /sys/devices/gpu.0/devfreq/* (Xavier and older), else a
// /sys/class/devfreq entry named after a Tegra GPU (Orin: 17000000.ga10b).
std::optional<fs::path> GpuDevfreq(const fs::path& root) {
  std::error_code ec;
  for (fs::directory_iterator it(root / "sys/devices/gpu.0/devfreq", ec), end; !ec && it != end;
       it.increment(ec))
    return it->path();
  std::vector<fs::path> found;
  for (fs::directory_iterator it(root / "sys/class/devfreq", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    for (const char* gpu : {"gpu", "ga10b", "gv11b", "gp10b", "gk20a"})
      if (absl::StrContains(name, gpu)) found.push_back(it->path());
  }
  if (found.empty()) return std::nullopt;
  std::sort(found.begin(), found.end());
  return found.front();
}

void ReadJetsonClocks(const fs::path& root, DeviceState* state) {
  const fs::path emc = root / "sys/kernel/debug/bpmp/debug/clk/emc";
  state->set_emc_rate_hz(ReadInt(emc / "rate"));
  state->set_emc_max_rate_hz(ReadInt(emc / "max_rate"));
  if (std::optional<fs::path> gpu = GpuDevfreq(root)) {
    state->set_gpu_governor(ReadString(*gpu / "governor"));
    state->set_gpu_cur_freq_hz(ReadInt(*gpu / "cur_freq"));
    state->set_gpu_min_freq_hz(ReadInt(*gpu / "min_freq"));
    state->set_gpu_max_freq_hz(ReadInt(*gpu / "max_freq"));
  }
}

// The fingerprinted fields, by name, in a fixed order.
std::map<std::string, std::string> StableFields(const DeviceState& s) {
  std::map<std::string, std::string> f;
  f["online cpus"] = s.online_cpus();
  for (const CpuCoreState& c : s.cpus()) {
    const std::string cpu = absl::StrCat("cpu", c.cpu());
    f[cpu + " online"] = c.online() ? "yes" : "no";
    f[cpu + " governor"] = c.governor();
    f[cpu + " min freq"] = absl::StrCat(c.min_freq_khz(), " kHz");
    f[cpu + " max freq"] = absl::StrCat(c.max_freq_khz(), " kHz");
    f[cpu + " hardware max freq"] = absl::StrCat(c.hw_max_freq_khz(), " kHz");
  }
  f["power mode"] = absl::StrCat(s.power_mode_id(), " ", s.power_mode_name());
  f["emc max rate"] = absl::StrCat(s.emc_max_rate_hz(), " Hz");
  f["gpu governor"] = s.gpu_governor();
  f["gpu min freq"] = absl::StrCat(s.gpu_min_freq_hz(), " Hz");
  f["gpu max freq"] = absl::StrCat(s.gpu_max_freq_hz(), " Hz");
  return f;
}

}  // namespace

DeviceState ReadDeviceState(const std::string& root) {
  const fs::path r(root.empty() ? "/" : root);
  DeviceState state;
  ReadCpus(r, &state);
  ReadThermal(r, &state);
  ReadPowerMode(r, &state);
  ReadJetsonClocks(r, &state);
  return state;
}

std::string DeviceStateFingerprint(const DeviceState& state) {
  uint64_t hash = kFnvOffsetBasis;
  for (const auto& [name, value] : StableFields(state))
    hash = Fnv1a64(absl::StrCat(name, "=", value, "\n"), hash);
  return absl::StrFormat("%016x", hash);
}

std::string DescribeStateChange(const DeviceState& before, const DeviceState& after) {
  const std::map<std::string, std::string> a = StableFields(before), b = StableFields(after);
  std::vector<std::string> changes;
  auto value = [](const std::map<std::string, std::string>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? std::string("absent") : it->second;
  };
  std::set<std::string> keys;
  for (const auto& kv : a) keys.insert(kv.first);
  for (const auto& kv : b) keys.insert(kv.first);
  for (const std::string& k : keys) {
    const std::string x = value(a, k), y = value(b, k);
    if (x != y) changes.push_back(absl::StrCat(k, " ", x, " -> ", y));
  }
  return absl::StrJoin(changes, "; ");
}

std::string MachineArch() {
  struct utsname u;
  if (uname(&u) != 0) return kUnknown;
  return u.machine;
}

}  // namespace edgeloop::edge_bench
