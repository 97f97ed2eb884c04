#include "tools/version.h"

#include "absl/strings/str_cat.h"
#include "base/versions.h"
#if EDGELOOP_DATA
#include "data/reader.h"
#endif
#if EDGELOOP_EDGE_SERVER
#include "edge_bench/host_info.h"
#endif
#if EDGELOOP_PREDICTOR
#include "predictor/latency_model.h"
#endif
#if EDGELOOP_SUPERNET_CORE
#include "supernet/library_versions.h"
#endif

namespace edgeloop::tools {

// Each module this build has (an edge-only build lacks some) reports its libraries.
std::vector<std::string> VersionLines() {
  std::vector<std::vector<LibraryVersion>> lists;
#if EDGELOOP_SUPERNET_CORE
  lists.push_back(supernet::LibraryVersions());
#endif
#if EDGELOOP_PREDICTOR
  lists.push_back(predictor::LibraryVersions());
#endif
  lists.push_back(BaseLibraryVersions());
#if EDGELOOP_EDGE_SERVER
  lists.push_back(edge_bench::LibraryVersions());
#endif
#if EDGELOOP_DATA
  lists.push_back(data::LibraryVersions());
#endif
  std::vector<std::string> lines = {absl::StrCat("edgeloop ", EdgeloopVersion())};
  for (const auto& list : lists) {
    for (const auto& v : list) lines.push_back(FormatLibraryVersion(v));
  }
  return lines;
}

}  // namespace edgeloop::tools
