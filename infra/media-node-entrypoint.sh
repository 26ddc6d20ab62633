#!/bin/sh
# Starts the media node with the instance's public IPv4 address as the one it advertises in
# Contact and SDP (TELECONF_PUBLIC_IP), read from the EC2 instance metadata (IMDSv2) unless set.
set -eu
if [ -z "${TELECONF_PUBLIC_IP:-}" ]; then
  token="$(curl -fsS -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' \
    http://169.254.169.254/latest/api/token)"
  TELECONF_PUBLIC_IP="$(curl -fsS -m 2 -H "X-aws-ec2-metadata-token: $token" \
    http://169.254.169.254/latest/meta-data/public-ipv4)"
  export TELECONF_PUBLIC_IP
fi
exec /usr/local/bin/teleconf-media-node "$@"
