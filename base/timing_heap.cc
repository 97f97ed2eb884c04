#include "base/timing_heap.h"

#include <cstdlib>  // defines __GLIBC__ on glibc systems, which the test below needs

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace edgeloop {

bool UseTimingHeap() {
#if defined(__GLIBC__)
  // mmap()ed chunks are unmapped on free: only chunks above glibc's largest threshold
  // (32 MiB) get one. The heap's top is not trimmed.
  const bool threshold = mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
  const bool no_trim = mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
  return threshold && no_trim;
#else
  return false;
#endif
}

void ReleaseFreedMemory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace edgeloop
