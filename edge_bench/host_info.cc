#include "edge_bench/host_info.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/hash.h"

namespace edgeloop::edge_bench {
namespace {

// The value in kB of a "Name:   123 kB" line of /proc/self/status, in bytes.
int64_t StatusFieldBytes(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (!absl::StartsWith(line, field)) continue;
    std::string value(absl::StripAsciiWhitespace(line.substr(line.find(':') + 1)));
    value = value.substr(0, value.find(' '));
    int64_t kb = 0;
    return absl::SimpleAtoi(value, &kb) ? kb * 1024 : 0;
  }
  return 0;
}

}  // namespace

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "model name") || absl::StartsWith(line, "Model")) {
      size_t colon = line.find(':');
      if (colon != std::string::npos)
        return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "unknown";
}

int LogicalCores() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

int64_t PhysicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<int64_t>(pages) * page : 0;
}

std::string HostName() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

int64_t ProcessRssBytes() { return StatusFieldBytes("VmRSS:"); }
int64_t ProcessPeakRssBytes() { return StatusFieldBytes("VmHWM:"); }

bool ResetProcessPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  return static_cast<bool>(out.flush());
}

std::string DeviceFingerprint(const DeviceInfo& info) {
  const std::string text =
      absl::StrCat(info.cpu_model(), "|", info.cores(), "|", info.threads(), "|",
                   info.torch_version(), "|", info.device(), "|", info.cuda_device());
  return absl::StrFormat("%016x", Fnv1a64(text));
}

}  // namespace edgeloop::edge_bench
