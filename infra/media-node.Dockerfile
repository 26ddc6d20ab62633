# The media node's image: `docker build -f infra/media-node.Dockerfile .` from the repository
# root. The ECS task (infra/template.json, MediaTaskDefinition) runs it with host networking,
# one node per instance: SIP on 5060 UDP/TCP, RTP on 20000-29999/UDP.

# Dependencies are built in a layer of their own (cargo-chef's recipe: the manifests and the
# lock file only), so a change to the project's code rebuilds the project alone.
FROM rust:1.95-bookworm AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS plan
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS build
COPY --from=plan /src/recipe.json recipe.json
RUN cargo chef cook --release --locked -p teleconf-media-node --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked -p teleconf-media-node

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
# An unprivileged user (the node binds ports above 1024 only); the spool and recordings it
# writes live in /var/lib/teleconf, a host directory the instance gives this uid
# (the launch template's user data).
RUN groupadd --system --gid 10001 teleconf \
 && useradd --system --uid 10001 --gid teleconf --home-dir /var/lib/teleconf --shell /usr/sbin/nologin teleconf \
 && mkdir -p /var/lib/teleconf/spool /var/lib/teleconf/recordings \
 && chown -R teleconf:teleconf /var/lib/teleconf
COPY --from=build /src/target/release/teleconf-media-node /usr/local/bin/teleconf-media-node
COPY infra/media-node-entrypoint.sh /usr/local/bin/media-node-entrypoint
USER teleconf
# The container's logs are JSON lines (adapters::process::init_tracing).
ENV TELECONF_LOG_FORMAT=json
EXPOSE 5060/udp 5060/tcp 20000-29999/udp
# Healthy while the node accepts SIP over TCP. A draining node still accepts (it answers
# OPTIONS with 503 so the dispatcher skips it) and must not be replaced while calls go on.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${TELECONF_SIP_PORT:-5060}"]
# ECS sends SIGTERM (once the task protection the node holds while it carries calls is
# released), then waits StopTimeout: the node keeps its calls until they hang up or their
# conference's planned end plus TELECONF_DRAIN_GRACE_SECS, then exits.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/media-node-entrypoint"]
