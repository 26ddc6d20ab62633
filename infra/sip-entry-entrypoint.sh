#!/bin/sh
# Starts the SIP entry (Kamailio) on an EC2 host (host networking) whose Elastic IP the
# instance took at boot (the launch template's user data): the trunk's socket, 5060, listens
# on the private address and advertises the Elastic IP; calls and OPTIONS probes go to the
# nodes from a private socket, 5070 (a node's SIP is reachable only from this host's security
# group). The node list is kept by teleconf-dispatcher-sync, the task's other container, in the
# shared /run/teleconf-entry; an empty list is written first if the sync has not yet.
set -eu
imds() {
  token="$(curl -fsS -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' \
    http://169.254.169.254/latest/api/token)"
  curl -fsS -m 2 -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}
private="$(imds local-ipv4)"
public="${TELECONF_SIP_ENTRY_PUBLIC_IP:-$(imds public-ipv4)}"
dir=/run/teleconf-entry
[ -s "$dir/dispatcher.list" ] || echo "# no node yet" >"$dir/dispatcher.list"
# The advertised socket last: in 5.6 an advertised address sticks to the -l options after it.
exec kamailio -f /etc/teleconf/kamailio.cfg -DD -E -Y "$dir" \
  -l "udp:$private:5070" -l "tcp:$private:5070" \
  -l "udp:$private:5060/$public:5060" -l "tcp:$private:5060/$public:5060" \
  -A "DS_LIST=\"$dir/dispatcher.list\"" -A "NODE_SOCKET=\"udp:$private:5070\"" -A PING_INTERVAL=2
