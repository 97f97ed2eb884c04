// The torch.save reader (`init --from-state-dict`, `train --init-from FILE.pt`): zip
// records, CRCs, the pickle machine and tensor rebuilding on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "supernet/torch_pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  (void)edgeloop::supernet::ReadTorchSave(bytes, "fuzz.pt");
  return 0;
}
