# Shared by setup.sh and teardown.sh (sourced, not run): where the containers backend keeps
# its engine, and the settings every podman call needs on these machines.
#
# Everything lives under one project-owned directory, $HARNESS_CONTAINERS_DIR (default
# <repo>/.harness/containers, gitignored): podman's storage and run state, its network
# definitions, the API socket, the cached base image, and engine.env (the settings the
# harness and testcontainers read). Nothing else on the machine is shared with other users
# of podman: /run/podman, /var/lib/containers and /etc/containers/networks stay untouched.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${HARNESS_CONTAINERS_DIR:-$ROOT/.harness/containers}"
SOCKET="$DIR/podman.sock"
SERVICE_PID="$DIR/podman-service.pid"
SERVICE_LOG="$DIR/podman-service.log"
ENGINE_ENV="$DIR/engine.env"
BASE_IMAGE="${HARNESS_CONTAINERS_BASE_IMAGE:-localhost/pybase:latest}"
# Labels every container and network of the harness carries (harness/runtime/backends/containers).
RUN_LABEL="io.harness.run-id"

export CONTAINERS_CONF="$DIR/containers.conf"
export CONTAINERS_STORAGE_CONF="$DIR/storage.conf"

# Root for apt, debootstrap and rootful podman; sudo when this shell is not root.
if [ "$(id -u)" -eq 0 ]; then
  AS_ROOT=()
else
  AS_ROOT=(sudo --preserve-env=CONTAINERS_CONF,CONTAINERS_STORAGE_CONF)
fi

STARTED_AT=$EPOCHREALTIME
STEP_AT=$STARTED_AT

# `step_done "what"` ends a step and prints how long it took (for the duration report).
step_done() {
  local now=$EPOCHREALTIME
  awk -v a="$STEP_AT" -v b="$now" -v s="$(basename "$0" .sh)" -v w="$1" \
    'BEGIN { printf "%s: %-30s %6.1f s\n", s, w, b - a }'
  STEP_AT=$now
}

total_done() {
  STEP_AT=$STARTED_AT
  step_done "total"
}

podman_cmd() {
  "${AS_ROOT[@]}" podman "$@"
}

# True when the Docker-compatible API answers on our socket (python3: curl may be missing).
socket_answers() {
  [ -S "$SOCKET" ] && python3 - "$SOCKET" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n")
sys.exit(0 if b" 200 " in s.recv(64) else 1)
PY
}
