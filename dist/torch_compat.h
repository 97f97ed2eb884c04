// The c10d API differences between LibTorch 1.x and 2.x, in one place.
//
// LibTorch 1.x: a backend such as ProcessGroupGloo *is* a c10d::ProcessGroup.
// LibTorch 2.x: c10d::ProcessGroup became a wrapper that dispatches to c10d::Backend
// objects; ProcessGroupGloo and ProcessGroupNCCL are Backends. edgeloop drives one backend
// directly (allreduce, broadcast and wait are on both types), so it holds a `Collectives`.
#ifndef EDGELOOP_DIST_TORCH_COMPAT_H_
#define EDGELOOP_DIST_TORCH_COMPAT_H_

#include <torch/version.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>

namespace edgeloop::dist::compat {

#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

// LibTorch 2.4+ rendezvous through a libuv TCPStore by default, and refuses to start when it
// was built without libuv (Debian's is). The classic backend exists in every version, so it
// is chosen wherever the option exists.
template <class StoreOptions>
auto UseClassicTcpStore(StoreOptions& options, int) -> decltype(options.useLibUV = false, void()) {
  options.useLibUV = false;
}
template <class StoreOptions>
void UseClassicTcpStore(StoreOptions&, long) {}

}  // namespace edgeloop::dist::compat

#endif  // EDGELOOP_DIST_TORCH_COMPAT_H_
