#!/usr/bin/env bash
# Undo setup.sh's running parts: remove every container and network in the project's podman
# storage, stop the API service, and wait until no conmon (podman's per-container monitor),
# aardvark-dns or podman process of ours is left. Images and the cached base image stay, so
# the next setup.sh takes a second; `--purge` removes them and the whole storage too.
#
#   scripts/containers/teardown.sh [--purge]
#
# Exit status 1 when something of ours is still running at the end (it is named).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PURGE=0
if [ "${1:-}" = "--purge" ]; then
  PURGE=1
fi

# Processes of ours: their command line names our directory (conmon's bundle and pid
# paths, aardvark-dns's config dir, the API service's socket); pgrep prints their pids.
ours() {
  pgrep -f -- "$DIR/" || true
}

if [ ! -f "$CONTAINERS_CONF" ]; then
  echo "teardown: nothing set up in $DIR"
  exit 0
fi

# Containers and networks live in our storage and network directory only, so "all" here
# means all of the harness's, never anyone else's.
podman_cmd rm --all --force --time 0 >/dev/null 2>&1 || true
for network in $(podman_cmd network ls --format '{{.Name}}' 2>/dev/null); do
  if [ "$network" != "podman" ]; then
    podman_cmd network rm --force "$network" >/dev/null 2>&1 || true
  fi
done
step_done "containers and networks"

if [ -f "$SERVICE_PID" ]; then
  pid=$(cat "$SERVICE_PID")
  if kill -0 "$pid" 2>/dev/null; then
    "${AS_ROOT[@]}" kill -TERM "$pid" || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    "${AS_ROOT[@]}" kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$SERVICE_PID"
fi
rm -f "$SOCKET"
step_done "API service"

# conmon exits once its container is gone; give stragglers 10 s, then end them by pid.
for _ in $(seq 100); do
  [ -z "$(ours)" ] && break
  sleep 0.1
done
leftover=$(ours)
if [ -n "$leftover" ]; then
  echo "teardown: ending leftover processes: $(echo "$leftover" | tr '\n' ' ')" >&2
  for pid in $leftover; do
    "${AS_ROOT[@]}" kill -KILL "$pid" 2>/dev/null || true
  done
  sleep 0.5
fi

if [ "$PURGE" -eq 1 ]; then
  podman_cmd system reset --force >/dev/null 2>&1 || true
  "${AS_ROOT[@]}" rm -rf "$DIR/storage" "$DIR/run" "$DIR/networks" "$DIR/cache" \
    "$DIR/pydeps" "$DIR/build"
  rm -f "$ENGINE_ENV"
  step_done "purge"
fi

remaining=$(ours)
containers=0
if [ "$PURGE" -eq 0 ]; then  # (after a purge, asking podman would make a new storage)
  containers=$(podman_cmd ps --all --quiet 2>/dev/null | wc -l)
fi
total_done
if [ -n "$remaining" ] || [ "$containers" -ne 0 ]; then
  echo "teardown: still there: $containers container(s); processes: $remaining" >&2
  ps -o pid,etime,args -p "$(echo "$remaining" | paste -sd, -)" >&2 2>/dev/null || true
  exit 1
fi
echo "teardown: no container, network, conmon or podman process of ours is left"
