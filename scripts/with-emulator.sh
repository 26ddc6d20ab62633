#!/usr/bin/env bash
# Runs a command with the local AWS emulator up:
#
#   scripts/with-emulator.sh CMD [ARGS...]
#
# Starts the emulator unless it is already running, runs CMD, then stops the emulator only if
# this invocation started it (also when CMD fails or is interrupted). Exits with CMD's status.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EMU="$ROOT/scripts/emulator.sh"

if [[ $# -eq 0 ]]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi

started=0
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  # --if-mine: a start that failed because another session's emulator runs on another
  # port must not stop that one.
  if ((started)); then "$EMU" stop --if-mine || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if "$EMU" status >/dev/null 2>&1; then
  echo "with-emulator: reusing the running emulator ($("$EMU" url)); leaving it running" >&2
else
  started=1 # before `start`, so a half-started emulator is stopped too
  "$EMU" start
fi

rc=0
"$@" || rc=$?
exit "$rc"
