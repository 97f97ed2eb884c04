// What the measurement loop times, kept free of LibTorch.
//
// A Workload is one built model on the measuring device: PrepareBatch makes the input of a
// batch size (never inside the timed region), RunOnce runs one forward pass of it and
// returns only when the device has finished (the GPU is synchronised). Peak memory is
// tracked between ResetPeakMemory and PeakMemoryBytes. A WorkloadFactory builds workloads
// for architectures and describes its device. The LibTorch implementation is
// edge_bench/torch_workload.h; the server and the measurement loop only see this interface.
#ifndef EDGELOOP_EDGE_BENCH_WORKLOAD_H_
#define EDGELOOP_EDGE_BENCH_WORKLOAD_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "edge_bench/protocol.pb.h"
#include "proto/arch.pb.h"

namespace edgeloop::edge_bench {

class Workload {
 public:
  virtual ~Workload() = default;
  virtual absl::Status PrepareBatch(int batch) = 0;
  virtual absl::Status RunOnce() = 0;
  virtual void ResetPeakMemory() = 0;
  virtual int64_t PeakMemoryBytes() = 0;
};

class WorkloadFactory {
 public:
  virtual ~WorkloadFactory() = default;
  // Builds the static model of `arch` with random weights drawn from `seed`.
  virtual absl::StatusOr<std::unique_ptr<Workload>> Create(const ArchConfig& arch,
                                                           uint64_t seed) = 0;
  // The device fields of DeviceInfo (model, cores, threads, versions, fingerprint).
  virtual DeviceInfo Describe() const = 0;
};

}  // namespace edgeloop::edge_bench

#endif  // EDGELOOP_EDGE_BENCH_WORKLOAD_H_
