#!/bin/sh
# Starts the media node with the instance's public IPv4 address as the one it advertises in
# Contact and SDP (TELECONF_PUBLIC_IP), and its private address as the one the SIP entry
# reaches it at (TELECONF_NODE_SIP_ADDR, written in the node registry), each read from the
# EC2 instance metadata (IMDSv2) unless set.
set -eu
imds() {
  token="$(curl -fsS -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' \
    http://169.254.169.254/latest/api/token)"
  curl -fsS -m 2 -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}
if [ -z "${TELECONF_PUBLIC_IP:-}" ]; then
  TELECONF_PUBLIC_IP="$(imds public-ipv4)"
  export TELECONF_PUBLIC_IP
fi
if [ -z "${TELECONF_NODE_SIP_ADDR:-}" ]; then
  TELECONF_NODE_SIP_ADDR="$(imds local-ipv4):${TELECONF_SIP_ADDR##*:}"
  export TELECONF_NODE_SIP_ADDR
fi
exec /usr/local/bin/teleconf-media-node "$@"
