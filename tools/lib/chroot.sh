# Shared by tools/debian13.sh and tools/edge/cross_arm64.sh: a debootstrap'ed Debian root with
# the checkout bind-mounted at its own path and ccache at /ccache, every mount undone on exit.
# The sourcing script sets NAME (its name, for messages), REPO, ROOT, CCACHE_HOST, MIRROR,
# SUITE and READY (the marker written once debootstrap finished), then calls lock_root before
# anything else touches the root.
MOUNTS=()

die() { echo "$NAME: $*" >&2; exit "${2:-1}"; }

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

# /proc, /dev, the checkout, ccache and the resolver; the scripts add what they need more.
mount_base() {
  mkdir -p "$ROOT/proc" "$CCACHE_HOST"
  mount -t proc proc "$ROOT/proc"
  MOUNTS+=("$ROOT/proc")
  bind /dev /dev
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
    echo "$NAME: $ROOT is incomplete (an interrupted or damaged setup): making it anew"
    rm -rf --one-file-system "$ROOT"
  fi
  command -v debootstrap >/dev/null ||
    die "debootstrap is missing: install it with 'apt-get install debootstrap'" 2
  echo "$NAME: debootstrap $SUITE into $ROOT (about a minute)"
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

# Serialises runs on the root (a lock next to it), undoes stale mounts and arms the traps.
lock_root() {
  mkdir -p "$(dirname "$ROOT")"
  exec 9>"$ROOT.lock"
  flock -n 9 || { echo "$NAME: waiting for another run on $ROOT"; flock 9; }
  unmount_stale
  trap unmount_all EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
