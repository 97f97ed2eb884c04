#include "supernet/library_versions.h"

#include <ATen/Version.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace edgeloop::supernet {
namespace {

// at::show_config() lists the build's components, one per line, among them
// "  - CUDA Runtime 12.4" on CUDA builds; empty when absent.
std::string CudaRuntimeFromConfig() {
  std::istringstream config(at::show_config());
  std::string line;
  const std::string key = "CUDA Runtime ";
  while (std::getline(config, line)) {
    const size_t at = line.find(key);
    if (at != std::string::npos) return line.substr(at + key.size());
  }
  return "";
}

}  // namespace

std::vector<LibraryVersion> LibraryVersions() {
  std::vector<LibraryVersion> out;
  out.push_back({"LibTorch", TORCH_VERSION, ""});
  if (torch::cuda::is_available()) {
    std::string runtime = CudaRuntimeFromConfig();
    out.push_back({"CUDA",
                   absl::StrCat(runtime.empty() ? "yes" : runtime, ", ",
                                torch::cuda::device_count(), " device(s)"),
                   ""});
  }
  return out;
}

}  // namespace edgeloop::supernet
