// The edge server's message handling without sockets: decode a frame, then validate a
// measurement request against the server's limits (what OnMessage/OnMeasure do first).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "edge_bench/measure_service.h"
#include "edge_bench/protocol.h"

namespace {

using edgeloop::edge_bench::DeviceInfo;
using edgeloop::edge_bench::Workload;

// Never builds a model: the fuzzer exercises decoding and validation.
class NoWorkloads : public edgeloop::edge_bench::WorkloadFactory {
 public:
  absl::StatusOr<std::unique_ptr<Workload>> Create(const edgeloop::ArchConfig&, uint64_t) override {
    return absl::UnavailableError("fuzzing");
  }
  DeviceInfo Describe() const override {
    DeviceInfo d;
    d.set_device("cpu");
    return d;
  }
};

edgeloop::edge_bench::MeasureService& Service() {
  static auto* service = [] {
    edgeloop::edge_bench::MeasureServiceOptions o;
    o.limits.set_max_batch(64);
    o.limits.set_max_flops(2'000'000'000'000);
    return edgeloop::edge_bench::MeasureService::Create(o, std::make_unique<NoWorkloads>())
        ->release();
  }();
  return *service;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  edgeloop::edge_bench::Envelope envelope;
  std::string why;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (edgeloop::edge_bench::DecodeEnvelope(bytes, &envelope, &why) !=
      edgeloop::edge_bench::ERROR_UNSPECIFIED) {
    return 0;
  }
  if (envelope.has_measure_request()) (void)Service().Validate(envelope.measure_request());
  (void)edgeloop::edge_bench::EncodeEnvelope(envelope);
  return 0;
}
