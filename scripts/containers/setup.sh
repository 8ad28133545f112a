#!/usr/bin/env bash
# Prepare this machine for the harness's containers backend, without Docker and without a
# container registry:
#
#   1. install Podman and what it needs from Debian (skipped when podman is there);
#   2. write podman's settings for this sandbox (containers.conf, storage.conf) under the
#      project's own directory (see common.sh);
#   3. make the Python base image `localhost/pybase:latest` from Debian packages (mmdebstrap,
#      else debootstrap) + `podman import`, cached as a root-filesystem tarball (the slow
#      step, once: mmdebstrap about 40 s, debootstrap 2-3 times that);
#   4. serve the Docker-compatible API on a socket of the project's own;
#   5. write engine.env: the settings the harness applies before it imports testcontainers.
#
# Idempotent: a second run only checks (about a second). Undo with teardown.sh.
#
#   scripts/containers/setup.sh
#   HARNESS_CONTAINERS_DIR=/elsewhere scripts/containers/setup.sh
#   HARNESS_CONTAINERS_BASE_IMAGE=python:3.11-slim ...   # a machine with a registry: no
#                                                        # debootstrap, the image is pulled
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PACKAGES=(podman runc debootstrap mmdebstrap uidmap fuse-overlayfs slirp4netns
  containernetworking-plugins catatonit iptables)
SUITE="${HARNESS_CONTAINERS_SUITE:-bookworm}"
ROOTFS_CACHE="$DIR/cache/pybase-$SUITE-rootfs.tar"

mkdir -p "$DIR/cache" "$DIR/networks" "$DIR/run"
if [ "${#SOCKET}" -gt 100 ]; then
  echo "setup: socket path $SOCKET is too long for a unix socket; set HARNESS_CONTAINERS_DIR" >&2
  exit 2
fi

install_packages() {
  if command -v podman >/dev/null && command -v runc >/dev/null \
    && command -v debootstrap >/dev/null; then
    return
  fi
  "${AS_ROOT[@]}" apt-get update -qq
  "${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${PACKAGES[@]}" \
    >/dev/null
}

# The defaults fail here: crun cannot set rlimits above the sandbox's hard limit and does not
# support cgroups in hybrid mode (so runc, with the limits pinned to what the sandbox allows);
# there is no systemd (so cgroupfs and a file for events); the storage, the run state and the
# network definitions are the project's own, so nothing is shared with other podman users.
write_settings() {
  local nofile
  nofile=$(ulimit -Hn)
  cat >"$CONTAINERS_CONF" <<EOF
# Written by scripts/containers/setup.sh
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$DIR/run/events.log"
tmp_dir = "$DIR/run/libpod"

[network]
network_config_dir = "$DIR/networks"
EOF
  cat >"$CONTAINERS_STORAGE_CONF" <<EOF
# Written by scripts/containers/setup.sh
[storage]
driver = "${HARNESS_CONTAINERS_STORAGE_DRIVER:-overlay}"
graphroot = "$DIR/storage"
runroot = "$DIR/run/storage"
EOF
}

# The Debian mirror this machine's apt already uses (deb822 .sources or one-line .list);
# deb.debian.org on a machine that is not Debian.
debian_mirror() {
  local uri=""
  if ! grep -qs '^ID=debian' /etc/os-release; then
    echo "http://deb.debian.org/debian"
    return
  fi
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' \
    | grep -v security | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
      | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) {print $i; exit}}' \
      | grep -v security | head -n1 || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

# A minimal Debian with python3, as a tarball: no registry involved. mmdebstrap's `extract`
# variant only unpacks python3 and its dependencies (plus a shell and coreutils), which is
# all a Python service needs and about three times faster than a debootstrap, whose
# maintainer scripts and essential set are used here only when mmdebstrap is missing.
make_rootfs_tarball() {
  local mirror log="$DIR/cache/bootstrap.log"
  mirror=$(debian_mirror)
  if command -v mmdebstrap >/dev/null; then
    "${AS_ROOT[@]}" mmdebstrap --variant=extract --format=tar --include=python3,dash,coreutils \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' \
      "$SUITE" "$ROOTFS_CACHE.tmp" "$mirror" >"$log" 2>&1 || fail_with_log "$log"
  else
    local rootfs="$DIR/cache/rootfs.tmp"
    "${AS_ROOT[@]}" rm -rf "$rootfs"
    "${AS_ROOT[@]}" debootstrap --variant=minbase --include=python3 "$SUITE" "$rootfs" \
      "$mirror" >"$log" 2>&1 || fail_with_log "$log"
    "${AS_ROOT[@]}" rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
      "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/locale
    "${AS_ROOT[@]}" tar -C "$rootfs" --numeric-owner -cf "$ROOTFS_CACHE.tmp" .
    "${AS_ROOT[@]}" rm -rf "$rootfs"
  fi
  mv "$ROOTFS_CACHE.tmp" "$ROOTFS_CACHE"
}

fail_with_log() {
  echo "setup: making the base root filesystem failed; the end of $1:" >&2
  tail -n 20 "$1" >&2
  exit 1
}

python_minor_in() {
  tar -tf "$1" | grep -oE '^\./usr/lib/python3\.[0-9]+/$' | head -n1 | grep -oE '3\.[0-9]+'
}

make_base_image() {
  if podman_cmd image exists "$BASE_IMAGE"; then
    return
  fi
  if [ "$BASE_IMAGE" != "localhost/pybase:latest" ]; then
    podman_cmd pull -q "$BASE_IMAGE" >/dev/null
    return
  fi
  if [ ! -f "$ROOTFS_CACHE" ]; then
    make_rootfs_tarball
    step_done "base rootfs (Debian packages)"
  fi
  podman_cmd import --change 'CMD ["/bin/bash"]' \
    --change "LABEL io.harness.python=$(python_minor_in "$ROOTFS_CACHE")" \
    "$ROOTFS_CACHE" "$BASE_IMAGE" >/dev/null
}

# `podman system service` in its own session, all output to its log: it outlives this
# script (and nox, which would otherwise wait for its stdout to close).
start_api_service() {
  if socket_answers; then
    return
  fi
  rm -f "$SOCKET"
  setsid "${AS_ROOT[@]}" podman system service --time=0 "unix://$SOCKET" \
    >"$SERVICE_LOG" 2>&1 </dev/null &
  echo $! >"$SERVICE_PID"
  for _ in $(seq 100); do
    if socket_answers; then
      if [ "$(id -u)" -ne 0 ]; then
        "${AS_ROOT[@]}" chown "$(id -u)" "$SOCKET"
      fi
      return
    fi
    sleep 0.1
  done
  echo "setup: the API did not answer on $SOCKET within 10 s; its log:" >&2
  tail -n 20 "$SERVICE_LOG" >&2
  exit 1
}

# Read by harness.runtime.backends.containers.engine (variables already set in the environment win)
# and sourceable from a shell (`set -a; . engine.env; set +a`) for podman or docker CLIs.
write_engine_env() {
  cat >"$ENGINE_ENV.tmp" <<EOF
CONTAINERS_CONF=$CONTAINERS_CONF
CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF
DOCKER_HOST=unix://$SOCKET
TESTCONTAINERS_CONNECTION_MODE=docker_host
TESTCONTAINERS_RYUK_DISABLED=true
HARNESS_CONTAINERS_BASE_IMAGE=$BASE_IMAGE
EOF
  mv "$ENGINE_ENV.tmp" "$ENGINE_ENV"
}

install_packages
step_done "packages"
write_settings
make_base_image
step_done "base image"
start_api_service
step_done "API socket"
write_engine_env
total_done
echo "setup: engine ready at unix://$SOCKET (settings in $ENGINE_ENV)"
