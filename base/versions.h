// The versions of edgeloop and of the libraries it is built and runs with, for
// `edgeloop --version`, the edge server's DeviceInfo and the pipeline report.
//
// A LibraryVersion names one library, the version of the headers it was compiled against
// and, where the library can say, the version loaded at run time (empty when it cannot).
// Each module that links a library reports it (base: Abseil and Protobuf; supernet: LibTorch
// and CUDA; ...), so this header depends on none of them.
#ifndef EDGELOOP_BASE_VERSIONS_H_
#define EDGELOOP_BASE_VERSIONS_H_

#include <string>
#include <vector>

namespace edgeloop {

struct LibraryVersion {
  std::string name;     // "LibTorch", "Protobuf", ...
  std::string built;    // from the headers at compile time
  std::string runtime;  // from the loaded library, or empty when it cannot tell
};

// edgeloop's own version (the CMake project version).
std::string EdgeloopVersion();

// Abseil (its LTS release date) and Protobuf.
std::vector<LibraryVersion> BaseLibraryVersions();

// "name version" or "name version (built with X)" when the loaded library differs.
std::string FormatLibraryVersion(const LibraryVersion& v);

}  // namespace edgeloop

#endif  // EDGELOOP_BASE_VERSIONS_H_
