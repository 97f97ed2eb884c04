// The versions of LibTorch and, when this LibTorch sees a GPU, of CUDA and the GPU.
#ifndef EDGELOOP_SUPERNET_LIBRARY_VERSIONS_H_
#define EDGELOOP_SUPERNET_LIBRARY_VERSIONS_H_

#include <vector>

#include "base/versions.h"

namespace edgeloop::supernet {

// LibTorch always; "CUDA" (the runtime LibTorch was built with and the device count) only
// when a CUDA device is usable.
std::vector<LibraryVersion> LibraryVersions();

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_LIBRARY_VERSIONS_H_
