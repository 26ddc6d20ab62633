#!/usr/bin/env bash
# The local stack behind `make run`: emulator, provisioning + demo account, API (serving the
# portal), the scheduler and mailer loops and a media node, in the foreground until Ctrl-C.
# With NODES=N (N >= 2): the SIP entry (Kamailio, infra/kamailio/kamailio.cfg) on SIP_ADDR in
# front of N media nodes (SIP on SIP_ADDR's port + 10, + 20…; RTP 20000-20999, 21000-21999…),
# and the dispatcher sync that lists them for Kamailio from the node registry.
#
# Env (defaults in brackets): API_ADDR [127.0.0.1:8080], SIP_ADDR [127.0.0.1:5060], NODES [1],
# BIN_DIR [target/debug] (where the teleconf-* binaries are), plus the AWS_* / TELECONF_*
# variables the Makefile exports (defaulted here too, so the script also runs on its own).
# Logs go to .run/<service>.log. On exit everything this script started is stopped.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
EMU="$ROOT/scripts/emulator.sh"
RUN_DIR="$ROOT/.run"
BIN_DIR="${BIN_DIR:-$ROOT/target/debug}"
API_ADDR="${API_ADDR:-127.0.0.1:8080}"
SIP_ADDR="${SIP_ADDR:-127.0.0.1:5060}"
NODES="${NODES:-1}"
[[ "$NODES" =~ ^[1-9]$ ]] || { echo "run-local: NODES must be 1 to 9, not '$NODES'" >&2; exit 1; }
API_READY_TIMEOUT_S=20

: "${AWS_ENDPOINT_URL:=$("$EMU" url)}"
: "${AWS_ACCESS_KEY_ID:=test}"
: "${AWS_SECRET_ACCESS_KEY:=test}"
: "${AWS_REGION:=us-east-1}"
: "${TELECONF_TABLE:=teleconf-local}"
: "${TELECONF_BUCKET:=teleconf-local-media}"
: "${TELECONF_MAIL_FROM:=conferences@teleconf.example}"
: "${TELECONF_EMULATOR:=${EMULATOR:-moto}}"
# DynamoDB and its streams: moto beside LocalStack, or the emulator itself.
: "${AWS_ENDPOINT_URL_DYNAMODB:=$("$EMU" dynamodb-url)}"
: "${AWS_ENDPOINT_URL_DYNAMODB_STREAMS:=$AWS_ENDPOINT_URL_DYNAMODB}"
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION TELECONF_TABLE \
  TELECONF_BUCKET TELECONF_MAIL_FROM TELECONF_EMULATOR AWS_ENDPOINT_URL_DYNAMODB \
  AWS_ENDPOINT_URL_DYNAMODB_STREAMS

note() { echo "run-local: $*" >&2; }
die() { note "$*"; exit 1; }

alive() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z ]]
}

started_emulator=0
pids=()             # services started by this script, in start order
declare -A names=() # pid -> binary name
finished=0

# Stops every service (each leads its own process group), then the emulator if we started it.
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  ((finished)) && return
  finished=1
  trap '' INT TERM HUP # a second Ctrl-C must not cut the cleanup short
  local pid deadline
  if ((${#pids[@]})); then
    local list=()
    for pid in "${pids[@]}"; do list+=("${names[$pid]}"); done
    note "stopping ${list[*]}"
    for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
    deadline=$((SECONDS + 10))
    for pid in "${pids[@]}"; do
      while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
      if alive "$pid"; then
        note "${names[$pid]} ignored SIGTERM; killing it"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      fi
      kill -KILL -- "-$pid" 2>/dev/null || true # anything its process group left behind
      wait "$pid" 2>/dev/null || true
    done
  fi
  if ((started_emulator)); then "$EMU" stop || true; fi
  if [[ -n "${kam_dir:-}" ]]; then rm -rf "$kam_dir"; fi
}
trap cleanup EXIT
trap 'echo >&2; note "stopping teleconf"; exit 0' INT TERM HUP

# start_service NAME ARGS...: starts $BIN_DIR/NAME in the background, logging to .run/<NAME without teleconf->.log.
start_service() {
  local name="$1"
  shift
  start_process "$name" "$BIN_DIR/$name" "$@"
}

# start_process NAME COMMAND ARGS...: starts COMMAND in the background as NAME, logging to
# .run/<NAME without teleconf->.log.
start_process() {
  local name="$1" log="$RUN_DIR/${1#teleconf-}.log"
  shift
  : >"$log"
  # setsid: its own process group, so stopping it also stops anything it spawned. Services log
  # at info unless RUST_LOG says otherwise.
  RUST_LOG="${RUST_LOG:-info}" setsid "$@" </dev/null >>"$log" 2>&1 &
  pids+=("$!")
  names[$!]="$name"
}

port_open() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

command -v curl >/dev/null || die "curl is required (make deps installs it)"
for bin in teleconf-provision teleconf-api; do
  [[ -x "$BIN_DIR/$bin" ]] || die "$BIN_DIR/$bin is missing: build it first (make build, or cargo build --workspace --bins)"
done
port_open "$API_ADDR" && die "$API_ADDR is already in use (another make run?); set API_ADDR=host:port"
mkdir -p "$RUN_DIR"

# 1. The emulator (left running at the end if it was already running).
if "$EMU" status >/dev/null 2>&1; then
  note "reusing the running emulator at $AWS_ENDPOINT_URL"
else
  started_emulator=1
  "$EMU" start
fi

# 2. Tables, bucket, SES identity and the demo account; its output reaches the user unchanged.
(umask 077 && : >"$RUN_DIR/provision.out")
"$BIN_DIR/teleconf-provision" --demo | tee "$RUN_DIR/provision.out" ||
  die "teleconf-provision --demo failed"
# The logins to repeat at the end: each `email:`/`password:` line, plus the label line (ending in
# ':', e.g. "provider admin:") just before an `email:` line.
credentials="$(awk '
  /^[[:space:]]*email: / { if (prev ~ /:[[:space:]]*$/ && prev !~ /^[[:space:]]*(email|password): /) print prev }
  /^[[:space:]]*(email|password): / { sub(/^[[:space:]]+/, ""); print }
  { prev = $0 }' "$RUN_DIR/provision.out")"

# 3. The API (it serves the portal too).
TELECONF_API_ADDR="$API_ADDR" start_service teleconf-api
api_pid="${pids[-1]}"
deadline=$((SECONDS + API_READY_TIMEOUT_S))
until [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$API_ADDR/healthz" || true)" == 200 ]]; do
  if ! alive "$api_pid" || ((SECONDS >= deadline)); then
    note "teleconf-api did not become healthy on http://$API_ADDR/healthz; last lines of .run/api.log:"
    tail -n 30 "$RUN_DIR/api.log" >&2 || true
    exit 1
  fi
  sleep 0.2
done

# 4. The background loops and the media node, when they are built. The mailer links mail to
#    the portal this API serves; the scheduler ticks every minute as EventBridge would.
export TELECONF_PORTAL_URL="${TELECONF_PORTAL_URL:-http://$API_ADDR}"
export TELECONF_SCHEDULER_INTERVAL_S="${TELECONF_SCHEDULER_INTERVAL_S:-60}"
for bin in teleconf-scheduler teleconf-mailer; do
  if [[ -x "$BIN_DIR/$bin" ]]; then start_service "$bin" --local; else note "$bin not built yet: skipped"; fi
done
media_node=0
if [[ ! -x "$BIN_DIR/teleconf-media-node" ]]; then
  note "teleconf-media-node not built yet: skipped"
elif ((NODES == 1)); then
  TELECONF_SIP_ADDR="$SIP_ADDR" TELECONF_SPOOL_DIR="$RUN_DIR/spool" start_service teleconf-media-node
  media_node=1
else
  # The SIP entry: the dispatcher sync writes Kamailio's node list (empty at first) from the
  # registry the nodes heartbeat into; Kamailio takes the calls on SIP_ADDR and spreads them.
  command -v kamailio >/dev/null || die "kamailio is required for NODES=$NODES (make deps-sip installs it)"
  [[ -x "$BIN_DIR/teleconf-dispatcher-sync" ]] || die "$BIN_DIR/teleconf-dispatcher-sync is missing: build it first"
  entry_ip="${SIP_ADDR%:*}" entry_port="${SIP_ADDR##*:}"
  # Kamailio's own directory, under /tmp with its copy of the config: as root it runs as
  # nobody, who may not enter the checkout (a clone in a private temporary directory).
  kam_dir="$(mktemp -d /tmp/teleconf-kamailio.XXXXXX)"
  rm -rf "$RUN_DIR/kamailio" && ln -s "$kam_dir" "$RUN_DIR/kamailio"
  cp "$ROOT/infra/kamailio/kamailio.cfg" "$kam_dir/kamailio.cfg"
  for ((i = 1; i <= NODES; i++)); do
    low=$((20000 + (i - 1) * 1000))
    TELECONF_SIP_ADDR="$entry_ip:$((entry_port + 10 * i))" TELECONF_RTP_PORTS="$low-$((low + 999))" \
      TELECONF_NODE_ID="node-$i" TELECONF_SIP_ENTRY_SOURCES="$entry_ip" \
      TELECONF_NODE_SOURCES="$entry_ip" TELECONF_CASCADE_SECRET="teleconf local cascade secret" \
      TELECONF_SPOOL_DIR="$RUN_DIR/spool-$i" TELECONF_RECORDING_DIR="$RUN_DIR/recordings-$i" \
      start_process "teleconf-media-node-$i" "$BIN_DIR/teleconf-media-node"
  done
  TELECONF_DISPATCHER_LIST="$kam_dir/dispatcher.list" TELECONF_KAMAILIO_CTL="unix:$kam_dir/kamailio_ctl" \
    start_service teleconf-dispatcher-sync
  for _ in {1..100}; do [[ -s "$kam_dir/dispatcher.list" ]] && break; sleep 0.1; done
  [[ -s "$kam_dir/dispatcher.list" ]] || die "the dispatcher sync wrote no list; see .run/dispatcher-sync.log"
  # Kamailio refuses to run as root without a user: as root it runs as nobody (its run dir then
  # belongs to nobody; the sync, as root, still reaches the control socket).
  as_user=()
  if [[ "$(id -u)" == 0 ]]; then
    chown -R nobody:nogroup "$kam_dir"
    as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  fi
  start_process kamailio "${as_user[@]}" "$(command -v kamailio)" -f "$kam_dir/kamailio.cfg" \
    -DD -E -w "$kam_dir" -Y "$kam_dir" -l "udp:$SIP_ADDR" -l "tcp:$SIP_ADDR" \
    -A "DS_LIST=\"$kam_dir/dispatcher.list\"" -A PING_INTERVAL=2
  # Ready once Kamailio holds every node (the sync says so after a reload, or on finding them held).
  for _ in {1..300}; do
    grep -q "dispatcher sync: $NODES node(s) listed" "$RUN_DIR/dispatcher-sync.log" && break
    sleep 0.1
  done
  grep -q "dispatcher sync: $NODES node(s) listed" "$RUN_DIR/dispatcher-sync.log" ||
    die "Kamailio does not list the $NODES nodes; see .run/dispatcher-sync.log and .run/kamailio.log"
  media_node=1
fi

# 5. Where to go and how to log in.
echo
echo "teleconf is running."
# The portal line only when the API serves its sign-in page (issue #8).
if [[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$API_ADDR/portal/sign-in" || true)" == 200 ]]; then
  echo "portal: http://$API_ADDR/portal"
fi
echo "api: http://$API_ADDR/v1"
if ((media_node)); then
  if ((NODES > 1)); then
    echo "sip: udp and tcp $SIP_ADDR (Kamailio, in front of $NODES media nodes)"
  else
    echo "sip: udp and tcp $SIP_ADDR"
  fi
  # The demo conference to call (see the README's softphone walkthrough).
  grep -E '^(demo conference|access number|conference number|(participant|listener|moderator) code)' \
    "$RUN_DIR/provision.out" || true
  echo "dial: sip:$(awk '/^access number: / { print $3 }' "$RUN_DIR/provision.out")@$SIP_ADDR"
fi
echo "logs: .run/*.log"
echo "mail: scripts/outbox.sh (the mail the emulator captured)"
# Billing runs on a schedule in AWS; here, on demand, in a second terminal (issue #7): the
# month the demo account's calls were seeded in (last month on its clock).
bill_month="$(awk '/^demo month to bill: / { print $5 }' "$RUN_DIR/provision.out")"
: "${bill_month:=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)}"
echo "bill a month: make bill MONTH=$bill_month EMULATOR_PORT=$EMULATOR_PORT"
if [[ -n "$credentials" ]]; then
  printf '%s\n' "$credentials"
else
  note "no 'email:'/'password:' lines in the teleconf-provision output"
fi
echo "Press Ctrl-C to stop."

# 6. Foreground until Ctrl-C (the INT/TERM trap exits). The API exiting ends the run; another
#    service exiting is reported and the rest keep running.
while ((${#pids[@]})); do
  pid=""
  status=0
  wait -n -p pid || status=$?
  [[ -n "$pid" ]] || continue
  name="${names[$pid]}"
  note "$name exited (status $status); last lines of .run/${name#teleconf-}.log:"
  tail -n 20 "$RUN_DIR/${name#teleconf-}.log" >&2 || true
  remaining=()
  for other in "${pids[@]}"; do [[ "$other" == "$pid" ]] || remaining+=("$other"); done
  pids=("${remaining[@]}")
  unset "names[$pid]"
  [[ "$name" != teleconf-api ]] || die "the API is down: stopping"
done
die "every service has exited"
