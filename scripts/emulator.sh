#!/usr/bin/env bash
# The local AWS emulator behind `make run` and `make test`.
#
#   scripts/emulator.sh install|start|stop|status|url|dynamodb-url
#
# EMULATOR=moto (default) or localstack; EMULATOR_PORT defaults to 4577 (moto) or 4566
# (localstack). State lives in .run/ at the repository root: emulator.pid, emulator.log and
# emulator.kind ("EMULATOR PORT" of the running one). One emulator at a time per checkout;
# `stop` only ever stops the processes this script started (those in the PID files).
#
# EMULATOR=localstack serves S3, SES, SQS and CloudFormation from LocalStack on EMULATOR_PORT,
# and DynamoDB with its streams from moto beside it, on EMULATOR_DYNAMODB_PORT (EMULATOR_PORT + 1;
# dynamodb.pid, dynamodb.log): LocalStack's own DynamoDB downloads DynamoDB Local and a Java
# runtime on first use, which a machine without outside network access cannot. Clients reach it
# through AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_DYNAMODB_STREAMS (the Makefile sets them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="$ROOT/.run"
PID_FILE="$RUN_DIR/emulator.pid"
KIND_FILE="$RUN_DIR/emulator.kind"
LOG_FILE="$RUN_DIR/emulator.log"
DYNAMODB_PID_FILE="$RUN_DIR/dynamodb.pid"
DYNAMODB_LOG_FILE="$RUN_DIR/dynamodb.log"
READY_TIMEOUT_S=60

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
# LocalStack's companion moto, for DynamoDB (none beside moto itself).
DYNAMODB_PORT=""
if [[ "$EMULATOR" == localstack ]]; then DYNAMODB_PORT="${EMULATOR_DYNAMODB_PORT:-$((PORT + 1))}"; fi

log() { echo "emulator: $*" >&2; }
die() { log "$*"; exit 1; }

as_root() {
  if [[ "$(id -u)" == 0 ]]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $*"
  fi
}

# True when something accepts TCP connections on port $1 (bash's /dev/tcp: no curl needed).
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

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

ready() {
  [[ "$(http_status "$URL$READY_PATH")" =~ ^(200|404)$ ]] || return 1
  [[ -z "$DYNAMODB_PORT" || "$(http_status "http://127.0.0.1:$DYNAMODB_PORT/moto-api/")" == 200 ]]
}

# A process is alive if it exists and is not a zombie.
alive() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z ]]
}

# The PID from the PID file $1 (the emulator's by default), if that process is still an
# emulator we started.
our_pid() {
  local file="${1:-$PID_FILE}"
  [[ -f "$file" ]] || return 1
  local pid
  pid="$(cat "$file")"
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

# Prints a Python >= 3.13 (localstack-core 2026.3.0 imports warnings.deprecated): LOCALSTACK_PYTHON,
# else one on PATH, else one pyenv installed (its shims answer only for the selected version, so
# its versions are looked at directly), else one in /usr/local or /opt.
localstack_python() {
  local candidate
  local -a candidates=()
  [[ -n "${LOCALSTACK_PYTHON:-}" ]] && candidates+=("$LOCALSTACK_PYTHON")
  candidates+=(python3.14 python3.13 python3)
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  if command -v pyenv >/dev/null; then pyenv_root="$(pyenv root)"; fi
  # Newest first.
  for candidate in $(ls -d "$pyenv_root"/versions/3.* /usr/local/bin/python3.* /opt/python*/bin/python3 \
    2>/dev/null | sort -rV); do
    [[ -d "$candidate" ]] && candidate="$candidate/bin/python3"
    candidates+=("$candidate")
  done
  for candidate in "${candidates[@]}"; do
    if "$candidate" -c 'import sys, venv, ssl; sys.exit(sys.version_info < (3, 13))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

install_localstack() {
  local marker="$LOCALSTACK_VENV/.installed"
  if [[ -f "$marker" && "$(cat "$marker")" == "${LOCALSTACK_SPEC[*]}" ]]; then return 0; fi
  local py
  py="$(localstack_python)" || die "LocalStack needs Python >= 3.13 and none was found (on PATH," \
    "under pyenv, /usr/local or /opt; python3 is $(python3 --version 2>&1))." \
    "Install one and/or set LOCALSTACK_PYTHON=/path/to/python3.13, or use EMULATOR=moto."
  log "installing ${LOCALSTACK_SPEC[*]} into .venv-localstack/ with $py"
  rm -rf "$LOCALSTACK_VENV"
  "$py" -m venv "$LOCALSTACK_VENV"
  "$LOCALSTACK_VENV/bin/python" -m pip install -q --disable-pip-version-check "${LOCALSTACK_SPEC[@]}"
  echo "${LOCALSTACK_SPEC[*]}" >"$marker"
}

install() {
  case "$EMULATOR" in
    moto) install_moto ;;
    localstack) install_localstack && install_moto ;;
  esac
}

# moto_server_serial.py: moto's server with each DynamoDB request run alone, so conditional
# writes and transactions are atomic as in DynamoDB (see the file). Args: port, log file.
launch_moto() {
  setsid "$MOTO_VENV/bin/python" "$ROOT/scripts/moto_server_serial.py" -H 127.0.0.1 -p "$1" \
    </dev/null >>"$2" 2>&1 9>&- &
}

launch() {
  : >"$LOG_FILE"
  # setsid: the emulator leads its own process group, so `stop` can take down all of it, and a
  # Ctrl-C meant for `make test` reaches the caller's cleanup instead of killing it mid-run.
  # fd 9 (the start lock) is closed so the emulator does not hold it.
  case "$EMULATOR" in
    moto)
      launch_moto "$PORT" "$LOG_FILE"
      ;;
    localstack)
      # FILESYSTEM_ROOT: host mode keeps its files under .run/ (not in site-packages).
      GATEWAY_LISTEN="127.0.0.1:$PORT" SERVICES=s3,ses,sqs,cloudformation DISABLE_EVENTS=1 \
        FILESYSTEM_ROOT="$RUN_DIR/localstack" \
        setsid "$LOCALSTACK_VENV/bin/python" -m localstack.runtime.main \
        </dev/null >>"$LOG_FILE" 2>&1 9>&- &
      ;;
  esac
  echo $! >"$PID_FILE"
  echo "$EMULATOR $PORT" >"$KIND_FILE"
  if [[ -n "$DYNAMODB_PORT" ]]; then
    : >"$DYNAMODB_LOG_FILE"
    launch_moto "$DYNAMODB_PORT" "$DYNAMODB_LOG_FILE"
    echo $! >"$DYNAMODB_PID_FILE"
  fi
}

wait_ready() {
  local pid="$1" deadline=$((SECONDS + READY_TIMEOUT_S))
  until ready; do
    if ! alive "$pid"; then
      log "$EMULATOR exited during startup; last lines of $LOG_FILE:"
      tail -n 30 "$LOG_FILE" >&2 || true
      stop >/dev/null 2>&1 || true
      exit 1
    fi
    if [[ -n "$DYNAMODB_PORT" ]] && ! our_pid "$DYNAMODB_PID_FILE" >/dev/null; then
      log "moto (DynamoDB, port $DYNAMODB_PORT) exited during startup; last lines of $DYNAMODB_LOG_FILE:"
      tail -n 30 "$DYNAMODB_LOG_FILE" >&2 || true
      stop >/dev/null 2>&1 || true
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
  stop_pid_file "$DYNAMODB_PID_FILE" >/dev/null || true
  local port
  for port in $PORT $DYNAMODB_PORT; do
    if port_open "$port"; then
      die "port $port is in use by a process this script did not start; stop it or choose" \
        "another EMULATOR_PORT (see: ss -ltnp 'sport = :$port')"
    fi
  done
  install
  launch
  pid="$(cat "$PID_FILE")"
  wait_ready "$pid"
  log "$EMULATOR ready on $URL (pid $pid, log .run/emulator.log)"
  if [[ -n "$DYNAMODB_PORT" ]]; then
    log "DynamoDB and its streams from moto on http://127.0.0.1:$DYNAMODB_PORT" \
      "(pid $(cat "$DYNAMODB_PID_FILE"), log .run/dynamodb.log)"
  fi
}

# Stops the process of PID file $1 and its group (setsid made it their leader), if we started it.
stop_pid_file() {
  local pid
  if ! pid="$(our_pid "$1")"; then
    rm -f "$1"
    return 1
  fi
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
  if alive "$pid"; then
    log "pid $pid ignored SIGTERM; sending SIGKILL"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
    alive "$pid" && die "pid $pid survived SIGKILL; PID file $1 kept"
  fi
  # Stragglers left in the group (children that outlived the leader).
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$1"
  echo "$pid"
}

# stop [--if-mine]: with --if-mine, only the emulator of this EMULATOR and port (another
# session's, on another port, is left running).
stop() {
  local pid kind
  if [[ "${1:-}" == --if-mine ]] && our_pid >/dev/null &&
    [[ "$(cat "$KIND_FILE" 2>/dev/null)" != "$EMULATOR $PORT" ]]; then
    log "leaving $(cat "$KIND_FILE" 2>/dev/null) running: not $EMULATOR $PORT"
    return 0
  fi
  kind="$(cat "$KIND_FILE" 2>/dev/null || echo emulator)"
  # LocalStack's companion (DynamoDB), whatever EMULATOR says now: it goes with its LocalStack.
  if pid="$(stop_pid_file "$DYNAMODB_PID_FILE")"; then log "stopped moto (DynamoDB) (pid $pid)"; fi
  if ! pid="$(stop_pid_file "$PID_FILE")"; then
    rm -f "$KIND_FILE"
    log "not running (nothing to stop)"
    return 0
  fi
  log "stopped $kind (pid $pid)"
  rm -f "$KIND_FILE"
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
  dynamodb-url) echo "http://127.0.0.1:${DYNAMODB_PORT:-$PORT}" ;;
  *) echo "usage: $0 install|start|stop [--if-mine]|status|url|dynamodb-url   (env: EMULATOR=moto|localstack, EMULATOR_PORT)" >&2; exit 2 ;;
esac
