// Facts about the measuring host, read from Linux without LibTorch.
//
// - CpuModel: the "model name" of /proc/cpuinfo (or "unknown").
// - ProcessRssBytes / ProcessPeakRssBytes: VmRSS / VmHWM of /proc/self/status.
// - ResetProcessPeakRss: writes "5" to /proc/self/clear_refs, which resets VmHWM to the
//   current RSS (Linux >= 4.0), so a peak can be taken per batch size.
// - DeviceFingerprint: 16 hex digits of a 64-bit FNV-1a hash of CPU model, cores,
//   threads, LibTorch version and device (incl. the GPU name): equal on identical devices
//   set up identically, different when anything that changes latency changes.
#ifndef EDGELOOP_EDGE_BENCH_HOST_INFO_H_
#define EDGELOOP_EDGE_BENCH_HOST_INFO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "base/versions.h"
#include "edge_bench/protocol.pb.h"

namespace edgeloop::edge_bench {

std::string CpuModel();
int LogicalCores();
// Physical memory of the host (sysconf), 0 when unknown.
int64_t PhysicalMemoryBytes();
std::string HostName();
int64_t ProcessRssBytes();
int64_t ProcessPeakRssBytes();
bool ResetProcessPeakRss();
std::string DeviceFingerprint(const DeviceInfo& info);

// The versions of Boost and OpenSSL the edge server and client are built and run with
// (base/versions.h).
std::vector<LibraryVersion> LibraryVersions();

}  // namespace edgeloop::edge_bench

#endif  // EDGELOOP_EDGE_BENCH_HOST_INFO_H_
