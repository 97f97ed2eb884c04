// Architecture JSON (space validate, measure --arch, store import's arch column): parse,
// validate, cost and key whatever parses.
#include <cstddef>
#include <cstdint>
#include <string>

#include "arch/arch_config.h"
#include "arch/cost_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto arch = edgeloop::arch::ArchFromJson(text);
  if (!arch.ok()) return 0;
  if (!edgeloop::arch::ValidateStructure(*arch).ok()) return 0;
  (void)edgeloop::arch::ComputeCost(*arch);
  (void)edgeloop::arch::CanonicalKey(*arch);
  (void)edgeloop::arch::ArchToJson(*arch);
  return 0;
}
