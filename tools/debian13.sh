#!/usr/bin/env bash
# edgeloop on Debian 13 (LibTorch 2.6, XGBoost 3.0, ...) from a Debian 12 machine, in a chroot.
#
#   tools/debian13.sh setup   make the Debian 13 root (debootstrap) and install the packages
#                             of tools/packages.txt in it (through tools/setup.sh --no-build)
#   tools/debian13.sh build   setup, then build the checkout into build-debian13/
#   tools/debian13.sh test    build, then run the whole GoogleTest suite there (ctest args
#                             after `test` are passed on, e.g. `test -R Space`)
#   tools/debian13.sh shell   a shell in the root, with the checkout mounted
#   tools/debian13.sh run CMD a command in the root, with the checkout mounted
#
# Needs root and debootstrap. The root lives in $EDGELOOP_DEBIAN13_ROOT (default
# /var/lib/edgeloop/debian13) and is reused; a root whose creation was interrupted is made
# anew, an installation that was interrupted is completed. The checkout is bind-mounted at
# its own path inside the root, a ccache directory ($EDGELOOP_DEBIAN13_CCACHE, default
# /var/cache/edgeloop/ccache-debian13) at /ccache; every mount is undone on exit, SIGINT and
# SIGTERM included. Runs are serialised by a lock next to the root.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${EDGELOOP_DEBIAN13_ROOT:-/var/lib/edgeloop/debian13}
CCACHE_HOST=${EDGELOOP_DEBIAN13_CCACHE:-/var/cache/edgeloop/ccache-debian13}
MIRROR=${EDGELOOP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
READY="$ROOT/.edgeloop-root-ready"   # written once debootstrap finished
MOUNTS=()

die() { echo "debian13.sh: $*" >&2; exit "${2:-1}"; }

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

unmount_all() {
  local i
  for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
    umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null || true
  done
  MOUNTS=()
}

# Left-over mounts of an earlier run that was killed (SIGKILL skips the trap) are undone too.
unmount_stale() {
  local m
  [[ -d "$ROOT" ]] || return 0
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v r="$ROOT/" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r)
}

bind() {  # bind SRC DEST-inside-root
  mkdir -p "$ROOT$2"
  mount --bind "$1" "$ROOT$2"
  MOUNTS+=("$ROOT$2")
}

mount_all() {
  mkdir -p "$ROOT/proc" "$CCACHE_HOST"
  mount -t proc proc "$ROOT/proc"
  MOUNTS+=("$ROOT/proc")
  bind /dev /dev
  mkdir -p "$ROOT/dev/shm"
  mount -t tmpfs -o size=2g tmpfs "$ROOT/dev/shm"  # c10d and Python's multiprocessing
  MOUNTS+=("$ROOT/dev/shm")
  bind "$REPO" "$REPO"
  bind "$CCACHE_HOST" /ccache
  cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
}

in_root() {  # in_root CMD...: a command inside the root with the build environment
  chroot "$ROOT" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    CCACHE_DIR=/ccache DEBIAN_FRONTEND=noninteractive CI="${CI:-}" "$@"
}

make_root() {
  if [[ -f "$READY" && -x "$ROOT/usr/bin/apt-get" ]]; then return 0; fi
  if [[ -e "$ROOT" ]]; then
    # Never delete through a mount (the checkout is bind-mounted inside the root).
    if awk -v r="$ROOT/" 'index($2, r) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
      die "$ROOT still has mounts inside it; unmount them (see /proc/mounts) and run again"
    fi
    echo "debian13.sh: $ROOT is incomplete (an interrupted or damaged setup): making it anew"
    rm -rf --one-file-system "$ROOT"
  fi
  command -v debootstrap >/dev/null ||
    die "debootstrap is missing: install it with 'apt-get install debootstrap'" 2
  echo "debian13.sh: debootstrap $SUITE into $ROOT (about a minute)"
  local partial="$ROOT.partial"
  rm -rf --one-file-system "$partial"
  mkdir -p "$(dirname "$ROOT")"
  if ! debootstrap --variant=minbase "$SUITE" "$partial" "$MIRROR" >"$partial.log" 2>&1; then
    die "debootstrap failed (is $MIRROR reachable?); the last lines of $partial.log: $(tail -n 2 "$partial.log" | tr '\n' ' ')"
  fi
  mv "$partial" "$ROOT"
  mv "$partial.log" "$ROOT/debootstrap.log"
  touch "$READY"
}

setup() {
  make_root
  mount_all
  # The package list as installed last; a changed list (or none yet) installs again.
  # setup.sh skips what is installed, so an interrupted installation is simply completed.
  local want have=""
  want=$(cat "$REPO/tools/packages.txt" "$REPO/tools/setup.sh" | sha256sum | cut -c1-64)
  [[ -f "$ROOT/.edgeloop-packages" ]] && have=$(cat "$ROOT/.edgeloop-packages")
  [[ "$want" == "$have" ]] && return 0
  in_root bash -c "apt-get update -q >/dev/null && cd '$REPO' && tools/setup.sh --no-build" ||
    die "installing the packages in the root failed (see the lines above)"
  echo "$want" >"$ROOT/.edgeloop-packages"
}

build() {
  in_root bash -c "cd '$REPO' &&
    if [[ ! -f build-debian13/CMakeCache.txt ]]; then
      cmake -S . -B build-debian13 -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    fi &&
    cmake --build build-debian13 -j \$(nproc)" || die "the build in build-debian13/ failed"
}

main() {
  local cmd=${1:-}
  [[ -n "$cmd" ]] || { usage >&2; exit 2; }
  shift
  case "$cmd" in
    setup|build|test|shell|run) ;;
    -h|--help|help) usage; exit 0 ;;
    *) echo "debian13.sh: unknown command '$cmd' (setup, build, test, shell or run)" >&2; exit 2 ;;
  esac
  [[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot and mount need it)" 2
  [[ "$cmd" != run || $# -gt 0 ]] || die "run needs a command" 2

  mkdir -p "$(dirname "$ROOT")"
  exec 9>"$ROOT.lock"
  flock -n 9 || { echo "debian13.sh: waiting for another run on $ROOT"; flock 9; }
  unmount_stale
  trap unmount_all EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  setup
  case "$cmd" in
    setup) echo "debian13.sh: $ROOT is ready ($(in_root dpkg-query -W -f='libtorch-dev ${Version}' libtorch-dev))" ;;
    build) build ;;
    test) build; in_root bash -c "cd '$REPO/build-debian13' &&
            ctest --output-on-failure -j \$(nproc) --timeout 600 $(printf '%q ' "$@")" ;;
    shell) in_root bash -c "cd '$REPO' && exec bash -i" ;;
    run) in_root bash -c "cd '$REPO' && $(printf '%q ' "$@")" ;;
  esac
}

main "$@"
