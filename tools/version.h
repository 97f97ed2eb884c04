// What `edgeloop --version` prints: edgeloop's version and every library the binary is built
// and runs with, one per line. The pipeline report carries the same lines.
#ifndef EDGELOOP_TOOLS_VERSION_H_
#define EDGELOOP_TOOLS_VERSION_H_

#include <string>
#include <vector>

namespace edgeloop::tools {

// "edgeloop 0.1.0" first, then "LibTorch 2.6.0", "XGBoost 3.0.0", ... (the modules this
// binary links).
std::vector<std::string> VersionLines();

}  // namespace edgeloop::tools

#endif  // EDGELOOP_TOOLS_VERSION_H_
