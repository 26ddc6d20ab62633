#!/usr/bin/env bash
# Prints the mail the local emulator captured instead of sending (the mailer's
# confirmations, invitations, notices and reports), oldest first:
#
#   scripts/outbox.sh            # every mail: recipients, subject, plain text, attachments
#   scripts/outbox.sh ADDRESS    # only the mail sent to ADDRESS
#   scripts/outbox.sh --ics      # also print each .ics attachment
#
# Reads moto's /moto-api/data.json (ses.RawMessage) or LocalStack's /_aws/ses at
# AWS_ENDPOINT_URL (default: the emulator scripts/emulator.sh runs). Needs python3.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${AWS_ENDPOINT_URL:=$("$ROOT/scripts/emulator.sh" url)}"
export AWS_ENDPOINT_URL
exec python3 - "$@" <<'PY'
import email, email.policy, json, os, sys, urllib.request

args = [a for a in sys.argv[1:] if a != "--ics"]
show_ics = "--ics" in sys.argv[1:]
only = args[0].lower() if args else None
base = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
emulator = os.environ.get("TELECONF_EMULATOR", os.environ.get("EMULATOR", "moto"))
path = "/_aws/ses" if emulator == "localstack" else "/moto-api/data.json"
with urllib.request.urlopen(base + path, timeout=5) as r:
    data = json.load(r)
if emulator == "localstack":
    raws = [(m.get("Destination", {}).get("ToAddresses", []), m.get("RawData") or "")
            for m in data.get("messages", [])]
else:
    raws = [(m.get("destinations", []), m.get("raw_data", ""))
            for m in data.get("ses", {}).get("RawMessage", [])]
shown = 0
for to, raw in raws:
    if only and only not in [t.lower() for t in to]:
        continue
    msg = email.message_from_string(raw, policy=email.policy.default)
    shown += 1
    print("=" * 78)
    print("To:      ", ", ".join(dict.fromkeys(to)))
    print("From:    ", msg["From"])
    print("Subject: ", msg["Subject"])
    print("Date:    ", msg["Date"])
    body = msg.get_body(preferencelist=("plain",))
    print()
    print(body.get_content() if body else "(no text part)")
    for part in msg.iter_attachments():
        print(f"[attachment] {part.get_filename()} ({part.get_content_type()})")
        if show_ics and part.get_content_type() == "text/calendar":
            print(part.get_content())
print(f"{shown} mail(s)", file=sys.stderr)
PY
