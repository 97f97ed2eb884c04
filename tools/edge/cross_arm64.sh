#!/usr/bin/env bash
# Cross-builds the edge-only edgeloop (cmake -DEDGELOOP_EDGE_ONLY=ON) for aarch64 into
# build-arm64/, from Debian 12's packages: crossbuild-essential-arm64, the :arm64 library
# packages of tools/edge/packages.txt and the toolchain file cmake/aarch64-linux-gnu.cmake.
#
#   tools/edge/cross_arm64.sh [setup|build|test|shell|run CMD...]   (default: build)
#
# `test` also builds the edge tests for aarch64 in build-arm64/ and runs them with ctest in
# the root, where the binfmt handler runs them under qemu (ctest arguments may follow).
#
# Why a chroot: libtorch-dev and libc10-dev are not "Multi-Arch: same", so installing their
# :arm64 versions on the build machine would make apt remove its amd64 ones (and break the
# native build). The cross build therefore runs in a Debian 12 root of its own
# ($EDGELOOP_ARM64_ROOT, default /var/lib/edgeloop/bookworm-arm64; made with debootstrap,
# reused), where arm64 is added as a foreign architecture. protoc is that root's amd64
# protobuf-compiler, the same version as its libprotobuf-dev:arm64. The checkout is
# bind-mounted at its own path, ccache at /ccache ($EDGELOOP_ARM64_CCACHE); mounts are undone
# on exit. The root is also the sysroot tools/edge/test_arm64.sh runs the binaries with.
# Installing libtorch-dev:arm64 configures python3:arm64 (a dependency of python3-dev), whose
# maintainer scripts run arm64 binaries: the script therefore needs qemu-user-static and
# binfmt-support on the build machine (amd64 packages, nothing removed) and enables its
# qemu-aarch64 binfmt handler (mounting binfmt_misc first when it is not mounted); it stays
# enabled. Needs root and debootstrap; the first setup downloads about 1 GB.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=${EDGELOOP_ARM64_ROOT:-/var/lib/edgeloop/bookworm-arm64}
CCACHE_HOST=${EDGELOOP_ARM64_CCACHE:-/var/cache/edgeloop/ccache-arm64}
MIRROR=${EDGELOOP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
READY="$ROOT/.edgeloop-root-ready"
# Packages of tools/edge/packages.txt that run on the build machine; the others are :arm64.
BUILD_TOOLS=" build-essential cmake ninja-build ccache pkg-config protobuf-compiler openssl "
MOUNTS=()

die() { echo "cross_arm64.sh: $*" >&2; exit "${2:-1}"; }

unmount_all() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null || true
  done
  MOUNTS=()
}

unmount_stale() {
  local m
  [[ -d "$ROOT" ]] || return 0
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v r="$ROOT/" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r)
}

bind() {
  mkdir -p "$ROOT$2"
  mount --bind "$1" "$ROOT$2"
  MOUNTS+=("$ROOT$2")
}

mount_all() {
  mkdir -p "$ROOT/proc" "$CCACHE_HOST"
  mount -t proc proc "$ROOT/proc"
  MOUNTS+=("$ROOT/proc")
  bind /dev /dev
  # LibTorch's cpuinfo reads /sys/devices/system/cpu: the tests need sysfs (read only).
  bind /sys /sys
  mount -o remount,bind,ro "$ROOT/sys" 2>/dev/null || true
  bind "$REPO" "$REPO"
  bind "$CCACHE_HOST" /ccache
  cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
}

in_root() {
  chroot "$ROOT" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    CCACHE_DIR=/ccache DEBIAN_FRONTEND=noninteractive "$@"
}

make_root() {
  if [[ -f "$READY" && -x "$ROOT/usr/bin/apt-get" ]]; then return 0; fi
  if [[ -e "$ROOT" ]]; then
    if awk -v r="$ROOT/" 'index($2, r) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
      die "$ROOT still has mounts inside it; unmount them (see /proc/mounts) and run again"
    fi
    echo "cross_arm64.sh: $ROOT is incomplete: making it anew"
    rm -rf --one-file-system "$ROOT"
  fi
  command -v debootstrap >/dev/null || die "debootstrap is missing (apt-get install debootstrap)" 2
  echo "cross_arm64.sh: debootstrap $SUITE into $ROOT (about a minute)"
  local partial="$ROOT.partial"
  rm -rf --one-file-system "$partial"
  mkdir -p "$(dirname "$ROOT")"
  debootstrap --variant=minbase "$SUITE" "$partial" "$MIRROR" >"$partial.log" 2>&1 ||
    die "debootstrap failed; the last lines of $partial.log: $(tail -n 2 "$partial.log" | tr '\n' ' ')"
  mv "$partial" "$ROOT"
  mv "$partial.log" "$ROOT/debootstrap.log"
  touch "$READY"
}

ensure_binfmt() {
  [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] && return 0
  [[ -e /usr/share/binfmts/qemu-aarch64 ]] ||
    die "qemu-user-static is missing: apt-get install --no-install-recommends qemu-user-static binfmt-support" 2
  command -v update-binfmts >/dev/null || die "binfmt-support is missing (apt-get install binfmt-support)" 2
  if [[ ! -e /proc/sys/fs/binfmt_misc/register ]]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
      die "cannot mount binfmt_misc: arm64 maintainer scripts cannot run" 2
  fi
  update-binfmts --enable qemu-aarch64 || die "cannot enable the qemu-aarch64 binfmt handler"
}

# The package names for the root: build tools as they are, libraries as :arm64.
packages() {
  awk '/^[[:space:]]*(#|$)/ { next }
       { for (i = 2; i <= NF && $i !~ /^#/; i++) if ($i == "12") { print $1; next } }' \
    "$REPO/tools/edge/packages.txt" |
    while read -r p; do
      if [[ "$BUILD_TOOLS" == *" $p "* ]]; then
        [[ "$p" == build-essential ]] && echo crossbuild-essential-arm64
        echo "$p"
      else
        echo "$p:arm64"
      fi
    done
}

setup() {
  make_root
  mount_all
  local want have=""
  want=$(cat "$REPO/tools/edge/packages.txt" "$0" | sha256sum | cut -c1-64)
  [[ -f "$ROOT/.edgeloop-packages" ]] && have=$(cat "$ROOT/.edgeloop-packages")
  [[ "$want" == "$have" ]] && return 0
  local list
  list=$(packages | tr '\n' ' ')
  echo "cross_arm64.sh: installing in $ROOT: $list"
  ensure_binfmt
  in_root bash -c "dpkg --add-architecture arm64 && apt-get update -q >/dev/null &&
    { dpkg --configure -a || true; } &&
    apt-get install -y -q --no-install-recommends $list" ||
    die "installing the packages in the root failed (see the lines above)"
  echo "$want" >"$ROOT/.edgeloop-packages"
}

build() {
  in_root bash -c "cd '$REPO' &&
    if [[ ! -f build-arm64/CMakeCache.txt ]]; then
      cmake -S . -B build-arm64 -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGELOOP_EDGE_ONLY=ON \
        -DEDGELOOP_BUILD_TESTS=OFF -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
    fi &&
    nice cmake --build build-arm64 -j \$(nproc) --target edgeloop edgeloop_microbench" ||
    die "the cross build in build-arm64/ failed"
  file "$REPO/build-arm64/tools/edgeloop" 2>/dev/null || true
  echo "cross_arm64.sh: built build-arm64/tools/edgeloop and build-arm64/edge_bench/edgeloop_microbench (aarch64)"
}

run_tests() {
  in_root bash -c "cd '$REPO' && cmake -DEDGELOOP_BUILD_TESTS=ON build-arm64 >/dev/null &&
    nice cmake --build build-arm64 -j \$(nproc) && cd build-arm64 &&
    ctest --output-on-failure -j \$(nproc) --timeout 1200 $(printf '%q ' "$@")"
}

main() {
  local cmd=${1:-build}
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    setup|build|test|shell|run) ;;
    -h|--help|help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cross_arm64.sh: unknown command '$cmd' (setup, build, test, shell or run)" >&2; exit 2 ;;
  esac
  [[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot and mount need it)" 2
  [[ "$cmd" != run || $# -gt 0 ]] || die "run needs a command" 2
  mkdir -p "$(dirname "$ROOT")"
  exec 9>"$ROOT.lock"
  flock -n 9 || { echo "cross_arm64.sh: waiting for another run on $ROOT"; flock 9; }
  unmount_stale
  trap unmount_all EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  setup
  case "$cmd" in
    setup) echo "cross_arm64.sh: $ROOT is ready" ;;
    build) build ;;
    test) build; run_tests "$@" ;;
    shell) in_root bash -c "cd '$REPO' && exec bash -i" ;;
    run) in_root bash -c "cd '$REPO' && $(printf '%q ' "$@")" ;;
  esac
}

main "$@"
