#!/usr/bin/env bash
# The local AWS emulator behind `make run` and `make test`.
#
#   scripts/emulator.sh install|start|stop|status|url
#
# EMULATOR=moto (default) or localstack; EMULATOR_PORT defaults to 4577 (moto) or 4566
# (localstack). State lives in .run/ at the repository root: emulator.pid, emulator.log and
# emulator.kind ("EMULATOR PORT" of the running one). One emulator at a time per checkout;
# `stop` only ever stops the process this script started (the one in the PID file).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="$ROOT/.run"
PID_FILE="$RUN_DIR/emulator.pid"
KIND_FILE="$RUN_DIR/emulator.kind"
LOG_FILE="$RUN_DIR/emulator.log"
READY_TIMEOUT_S=30

MOTO_SPEC="moto[server]==5.2.5"
MOTO_VENV="$ROOT/.venv"
# localstack-core alone lacks its runtime; the pins are what its 2026.3.0 release works with
# (cbor2 6 dropped cbor2._decoder, pyOpenSSL 25 dropped X509.add_extensions).
# LOCALSTACK_PIP_SPEC (space-separated) replaces them.
LOCALSTACK_SPEC=("localstack-core[runtime]==2026.3.0" "cbor2<6" "pyopenssl<25" "cryptography<45" service_identity)
if [[ -n "${LOCALSTACK_PIP_SPEC:-}" ]]; then read -ra LOCALSTACK_SPEC <<<"$LOCALSTACK_PIP_SPEC"; fi
LOCALSTACK_VENV="$ROOT/.venv-localstack"

EMULATOR="${EMULATOR:-moto}"
case "$EMULATOR" in
  moto) PORT="${EMULATOR_PORT:-4577}"; READY_PATH=/moto-api/ ;;
  localstack) PORT="${EMULATOR_PORT:-4566}"; READY_PATH=/_localstack/health ;;
  *) echo "emulator: unknown EMULATOR '$EMULATOR' (moto or localstack)" >&2; exit 2 ;;
esac
URL="http://127.0.0.1:$PORT"

log() { echo "emulator: $*" >&2; }
die() { log "$*"; exit 1; }

as_root() {
  if [[ "$(id -u)" == 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $*"
  fi
}

# True when something accepts TCP connections on the port (bash's /dev/tcp: no curl needed).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

# Prints the HTTP status of a GET (000 when nothing answers).
http_status() {
  if command -v curl >/dev/null; then
    curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" || true
  else
    python3 - "$1" <<'EOF' || echo 000
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=2).status)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print("000")
EOF
  fi
}

ready() { [[ "$(http_status "$URL$READY_PATH")" =~ ^(200|404)$ ]]; }

# A process is alive if it exists and is not a zombie.
alive() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z ]]
}

# The PID from the PID file, if that process is still an emulator we started.
our_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" || return 1
  # Guards against a recycled PID: the process must still look like an emulator.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq 'moto_server|localstack' || return 1
  echo "$pid"
}

install_moto() {
  if [[ -x "$MOTO_VENV/bin/moto_server" ]]; then return 0; fi
  log "installing $MOTO_SPEC into .venv/"
  if ! "$MOTO_VENV/bin/python" -m pip --version >/dev/null 2>&1; then
    rm -rf "$MOTO_VENV"
    if ! python3 -m venv "$MOTO_VENV"; then
      # Debian ships ensurepip separately.
      log "python3 -m venv failed; installing python3-venv"
      rm -rf "$MOTO_VENV"
      as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
      python3 -m venv "$MOTO_VENV"
    fi
  fi
  "$MOTO_VENV/bin/python" -m pip install -q --disable-pip-version-check "$MOTO_SPEC"
  [[ -x "$MOTO_VENV/bin/moto_server" ]] || die "moto_server missing after installing $MOTO_SPEC"
}

install_localstack() {
  local marker="$LOCALSTACK_VENV/.installed"
  if [[ -f "$marker" && "$(cat "$marker")" == "${LOCALSTACK_SPEC[*]}" ]]; then return 0; fi
  # localstack-core 2026.3.0 imports warnings.deprecated: Python 3.13 or later.
  local py="" candidate
  for candidate in ${LOCALSTACK_PYTHON:-} python3.14 python3.13 python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
      py="$candidate"; break
    fi
  done
  [[ -n "$py" ]] || die "LocalStack needs Python >= 3.13 and none was found on PATH" \
    "(python3 is $(python3 --version 2>&1)). Install one and/or set LOCALSTACK_PYTHON=/path/to/python3.13," \
    "or use EMULATOR=moto."
  log "installing ${LOCALSTACK_SPEC[*]} into .venv-localstack/ with $py"
  rm -rf "$LOCALSTACK_VENV"
  "$py" -m venv "$LOCALSTACK_VENV"
  "$LOCALSTACK_VENV/bin/python" -m pip install -q --disable-pip-version-check "${LOCALSTACK_SPEC[@]}"
  echo "${LOCALSTACK_SPEC[*]}" >"$marker"
}

install() {
  case "$EMULATOR" in
    moto) install_moto ;;
    localstack) install_localstack ;;
  esac
}

launch() {
  : >"$LOG_FILE"
  # setsid: the emulator leads its own process group, so `stop` can take down all of it, and a
  # Ctrl-C meant for `make test` reaches the caller's cleanup instead of killing it mid-run.
  # fd 9 (the start lock) is closed so the emulator does not hold it.
  case "$EMULATOR" in
    moto)
      # moto_server_serial.py: moto's server with each DynamoDB request run alone, so
      # conditional writes and transactions are atomic as in DynamoDB (see the file).
      setsid "$MOTO_VENV/bin/python" "$ROOT/scripts/moto_server_serial.py" -H 127.0.0.1 -p "$PORT" \
        </dev/null >>"$LOG_FILE" 2>&1 9>&- &
      ;;
    localstack)
      # FILESYSTEM_ROOT: host mode keeps its files under .run/ (not in site-packages).
      GATEWAY_LISTEN="127.0.0.1:$PORT" SERVICES=dynamodb,s3,ses DISABLE_EVENTS=1 \
        FILESYSTEM_ROOT="$RUN_DIR/localstack" \
        setsid "$LOCALSTACK_VENV/bin/python" -m localstack.runtime.main \
        </dev/null >>"$LOG_FILE" 2>&1 9>&- &
      ;;
  esac
  echo $! >"$PID_FILE"
  echo "$EMULATOR $PORT" >"$KIND_FILE"
}

wait_ready() {
  local pid="$1" deadline=$((SECONDS + READY_TIMEOUT_S))
  until ready; do
    if ! alive "$pid"; then
      log "$EMULATOR exited during startup; last lines of $LOG_FILE:"
      tail -n 30 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE" "$KIND_FILE"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "$EMULATOR not ready on $URL after ${READY_TIMEOUT_S}s; last lines of $LOG_FILE:"
      tail -n 30 "$LOG_FILE" >&2 || true
      stop >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 0.2
  done
}

start() {
  mkdir -p "$RUN_DIR"
  # Serialise concurrent starts (two `make test` at once) on one lock.
  exec 9>"$RUN_DIR/emulator.lock"
  if command -v flock >/dev/null; then flock 9; fi
  local pid
  if pid="$(our_pid)"; then
    if [[ "$(cat "$KIND_FILE" 2>/dev/null)" != "$EMULATOR $PORT" ]]; then
      die "another emulator from this checkout is running (pid $pid: $(cat "$KIND_FILE" 2>/dev/null));" \
        "stop it first with scripts/emulator.sh stop (or make emulator-stop)"
    fi
    if ready; then
      log "reusing $EMULATOR already running on $URL (pid $pid)"
      return 0
    fi
    log "$EMULATOR (pid $pid) is running but not answering yet; waiting"
    wait_ready "$pid"
    return 0
  fi
  rm -f "$PID_FILE" "$KIND_FILE"
  if port_open; then
    die "port $PORT is in use by a process this script did not start; stop it or choose" \
      "another EMULATOR_PORT (see: ss -ltnp 'sport = :$PORT')"
  fi
  install
  launch
  pid="$(cat "$PID_FILE")"
  wait_ready "$pid"
  log "$EMULATOR ready on $URL (pid $pid, log .run/emulator.log)"
}

# stop [--if-mine]: with --if-mine, only the emulator of this EMULATOR and port (another
# session's, on another port, is left running).
stop() {
  local pid
  if [[ "${1:-}" == --if-mine ]] && our_pid >/dev/null &&
    [[ "$(cat "$KIND_FILE" 2>/dev/null)" != "$EMULATOR $PORT" ]]; then
    log "leaving $(cat "$KIND_FILE" 2>/dev/null) running: not $EMULATOR $PORT"
    return 0
  fi
  if ! pid="$(our_pid)"; then
    [[ -f "$PID_FILE" ]] && log "stale PID file removed"
    rm -f "$PID_FILE" "$KIND_FILE"
    log "not running (nothing to stop)"
    return 0
  fi
  # The whole process group (setsid made the emulator its leader), then the PID alone as a fallback.
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  if alive "$pid"; then
    log "pid $pid ignored SIGTERM; sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    alive "$pid" && die "pid $pid survived SIGKILL; PID file kept"
  fi
  # Stragglers left in the group (children that outlived the leader).
  kill -KILL -- "-$pid" 2>/dev/null || true
  log "stopped $(cat "$KIND_FILE" 2>/dev/null || echo emulator) (pid $pid)"
  rm -f "$PID_FILE" "$KIND_FILE"
}

status() {
  local pid
  if pid="$(our_pid)" && [[ "$(cat "$KIND_FILE" 2>/dev/null)" == "$EMULATOR $PORT" ]] && ready; then
    echo "$EMULATOR running on $URL (pid $pid)"
  else
    echo "$EMULATOR not running (as started by this script) on $URL"
    return 1
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop "${2:-}" ;;
  status) status ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 install|start|stop [--if-mine]|status|url   (env: EMULATOR=moto|localstack, EMULATOR_PORT)" >&2; exit 2 ;;
esac
