#include "base/versions.h"

#include <google/protobuf/stubs/common.h>

#include "absl/base/config.h"
#include "absl/strings/str_cat.h"

#ifndef EDGELOOP_VERSION
#define EDGELOOP_VERSION "unknown"
#endif

namespace edgeloop {

std::string EdgeloopVersion() { return EDGELOOP_VERSION; }

std::vector<LibraryVersion> BaseLibraryVersions() {
  std::vector<LibraryVersion> out;
#ifdef ABSL_LTS_RELEASE_VERSION
  out.push_back(
      {"Abseil", absl::StrCat(ABSL_LTS_RELEASE_VERSION, ".", ABSL_LTS_RELEASE_PATCH_LEVEL), ""});
#else
  out.push_back({"Abseil", "head", ""});
#endif
  out.push_back(
      {"Protobuf", google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION), ""});
  return out;
}

std::string FormatLibraryVersion(const LibraryVersion& v) {
  if (v.runtime.empty() || v.runtime == v.built) return absl::StrCat(v.name, " ", v.built);
  return absl::StrCat(v.name, " ", v.runtime, " (built with ", v.built, ")");
}

}  // namespace edgeloop
