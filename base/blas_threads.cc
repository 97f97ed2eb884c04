#include "base/blas_threads.h"

#include <dlfcn.h>

namespace edgeloop {

bool PinBlasToOneThread() {
  // Looked up at run time: which BLAS backs libblas.so.3 is a system choice (Debian's
  // alternatives), not a link-time one.
  using SetThreads = void (*)(int);
  auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  if (set == nullptr) return false;
  set(1);
  return true;
}

}  // namespace edgeloop
