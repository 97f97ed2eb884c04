#include "data/reader.h"

#include <hdf5.h>

#include <string>

#include "absl/strings/str_cat.h"

namespace edgeloop::data {

std::vector<LibraryVersion> LibraryVersions() {
  unsigned major = 0, minor = 0, release = 0;
  std::string runtime;
  if (H5get_libversion(&major, &minor, &release) >= 0) {
    runtime = absl::StrCat(major, ".", minor, ".", release);
  }
  return {{"HDF5", absl::StrCat(H5_VERS_MAJOR, ".", H5_VERS_MINOR, ".", H5_VERS_RELEASE), runtime}};
}

}  // namespace edgeloop::data
