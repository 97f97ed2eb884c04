// `store import --csv` and `predictor fit --csv`: the CSV reader and the measurement rows
// (architecture JSON cells included).
#include <cstddef>
#include <cstdint>
#include <string>

#include "predictor/csv.h"
#include "predictor/store_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)edgeloop::predictor::ParseCsv(text, "fuzz.csv");
  (void)edgeloop::predictor::ParseMeasurementCsv(text, "fuzz.csv", "fuzz-device");
  return 0;
}
