// Search-space text format (--space files): parse and check, then use the space.
#include <cstddef>
#include <cstdint>
#include <string>

#include "arch/space.h"
#include "base/rng.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto space = edgeloop::arch::Space::FromText(text, "fuzz.textproto");
  if (!space.ok()) return 0;
  edgeloop::Rng rng(1);
  for (int i = 0; i < 3; ++i) (void)space->Contains(space->Sample(&rng));
  (void)space->Contains(space->Min());
  (void)space->Contains(space->Max());
  for (const std::string& name : space->Names()) (void)space->Named(name);
  return 0;
}
