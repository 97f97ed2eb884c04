// LibTorch parallelises every op itself (torch::set_num_threads, the --threads flags). A
// multi-threaded BLAS underneath (Debian's OpenBLAS spawns one thread per core) would fight
// it for the same cores: measured here, 3.9x slower training of the tiny space and 15% slower
// baseline forwards on 2 cores. PinBlasToOneThread() sets OpenBLAS, when it is the BLAS in
// use, to one thread; with another BLAS it does nothing. Call it first thing in main().
#ifndef EDGELOOP_BASE_BLAS_THREADS_H_
#define EDGELOOP_BASE_BLAS_THREADS_H_

namespace edgeloop {

// Returns true when OpenBLAS was found and pinned.
bool PinBlasToOneThread();

}  // namespace edgeloop

#endif  // EDGELOOP_BASE_BLAS_THREADS_H_
