// The device's state that moves latency, as Linux exposes it (protocol.proto DeviceState):
// CPU governors and frequencies, online cores, thermal zones, and on a Jetson the nvpmodel
// power mode and the EMC and GPU clocks.
//
// - ReadDeviceState reads every file under `root` (the file system root, "/" on a device;
//   tests pass a fake tree in a temporary directory), so /sys/devices/system/cpu/online is
//   read from `root`/sys/devices/system/cpu/online. It never fails: a missing or unreadable
//   file leaves its field "unknown" (strings; "" for the Jetson-only ones), 0 (numbers) or
//   -1 (throttle count, power mode id), and an absent directory adds no entries.
// - DeviceStateFingerprint: 16 hex digits of a 64-bit FNV-1a hash of the fields that set
//   latency and stay put while the device is left alone: online cores, per core the
//   governor and the min/max/hardware-max frequencies, the power mode, the EMC cap and the
//   GPU governor and min/max frequencies. The momentary frequencies, temperatures and
//   throttle counts fluctuate and are left out.
// - DescribeStateChange: the fingerprinted fields that differ, as one line, e.g.
//   "cpu0 governor powersave -> performance; online cpus 0-3 -> 0-1"; "" when none.
#ifndef EDGELOOP_EDGE_BENCH_DEVICE_STATE_H_
#define EDGELOOP_EDGE_BENCH_DEVICE_STATE_H_

#include <string>

#include "edge_bench/protocol.pb.h"

namespace edgeloop::edge_bench {

DeviceState ReadDeviceState(const std::string& root = "/");
std::string DeviceStateFingerprint(const DeviceState& state);
std::string DescribeStateChange(const DeviceState& before, const DeviceState& after);

// uname's machine ("x86_64", "aarch64"), "unknown" when uname fails.
std::string MachineArch();

}  // namespace edgeloop::edge_bench

#endif  // EDGELOOP_EDGE_BENCH_DEVICE_STATE_H_
