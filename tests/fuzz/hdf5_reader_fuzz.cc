// The RAISE-LPBF reader on arbitrary files: the bytes are written to a file (HDF5 opens
// paths) and opened, indexed and, when that succeeds, read frame by frame.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "data/reader.h"
#include "hdf5.h"

// HDF5 keeps freed blocks on its own free lists and hands them out to later calls, which
// libFuzzer's per-input leak check reports as leaks of the input that allocated them:
// without the lists, every block goes back to malloc at once.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  H5set_free_list_limits(0, 0, 0, 0, 0, 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/dev/shm/edgeloop-hdf5-fuzz-" + std::to_string(getpid()) + ".h5";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  auto reader = edgeloop::data::Reader::Open({path});
  if (reader.ok()) {
    (void)(*reader)->Objects();
    std::vector<uint8_t> frames;
    const int64_t lines = static_cast<int64_t>((*reader)->lines().size());
    for (int64_t i = 0; i < lines && i < 8; ++i) (void)(*reader)->ReadFrames(i, &frames);
  }
  std::remove(path.c_str());
  return 0;
}
