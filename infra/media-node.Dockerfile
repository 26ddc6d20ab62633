# The media node's image: `docker build -f infra/media-node.Dockerfile .` from the repository
# root. The ECS task (infra/template.json, MediaTaskDefinition) runs it with host networking,
# one node per instance: SIP on 5060 UDP/TCP, RTP on 20000-29999/UDP.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p teleconf-media-node

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/teleconf-media-node /usr/local/bin/teleconf-media-node
COPY infra/media-node-entrypoint.sh /usr/local/bin/media-node-entrypoint
EXPOSE 5060/udp 5060/tcp 20000-29999/udp
# ECS sends SIGTERM, then waits StopTimeout (120 s): the node drains for TELECONF_DRAIN_SECS.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/media-node-entrypoint"]
