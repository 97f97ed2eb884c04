// The latency model's sidecar (MODEL.json.meta.json), read by every predictor command.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "predictor/model_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> members;
  (void)edgeloop::predictor::ModelMetaFromJson(text, "fuzz.meta.json", &members);
  return 0;
}
