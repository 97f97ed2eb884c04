# CMake toolchain file: cross-compile for aarch64 (arm64) Debian with Debian's cross compilers
# (crossbuild-essential-arm64) and the :arm64 library packages installed by multiarch
# (/usr/lib/aarch64-linux-gnu, /usr/include/aarch64-linux-gnu). Build tools such as protoc
# are the build machine's. Used by tools/edge/cross_arm64.sh:
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DEDGELOOP_EDGE_ONLY=ON ...
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Multiarch: target libraries and build tools share one root; libraries are found in the
# triplet directories, programs (protoc) are the build machine's.
set(CMAKE_FIND_ROOT_PATH /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
