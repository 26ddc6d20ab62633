# The SIP entry's image: Kamailio (Debian's package, dispatcher module) and
# teleconf-dispatcher-sync, which keeps its node list from the registry. One image, two
# containers of one ECS task (infra/template.json, SipEntryTaskDefinition): `kamailio` runs
# infra/sip-entry-entrypoint.sh, `dispatcher-sync` the sync; they share /run/teleconf-entry
# (the list and Kamailio's control socket). Built from the repository root:
#   docker build -f infra/sip-entry.Dockerfile -t teleconf-sip-entry .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p teleconf-media-node --bin teleconf-dispatcher-sync

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends kamailio curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# Kamailio and the sync run as one unprivileged user (the sync talks to Kamailio's ctl socket).
RUN groupadd --system --gid 10002 sipentry \
 && useradd --system --uid 10002 --gid sipentry --no-create-home --shell /usr/sbin/nologin sipentry \
 && mkdir -p /run/teleconf-entry && chown sipentry:sipentry /run/teleconf-entry
COPY infra/kamailio/kamailio.cfg /etc/teleconf/kamailio.cfg
COPY infra/sip-entry-entrypoint.sh /usr/local/bin/sip-entry-entrypoint
COPY --from=build /src/target/release/teleconf-dispatcher-sync /usr/local/bin/teleconf-dispatcher-sync
USER sipentry
ENV TELECONF_DISPATCHER_LIST=/run/teleconf-entry/dispatcher.list \
    TELECONF_KAMAILIO_CTL=unix:/run/teleconf-entry/kamailio_ctl \
    TELECONF_LOG_FORMAT=json
EXPOSE 5060/udp 5060/tcp 5070/udp 5070/tcp
ENTRYPOINT ["/usr/local/bin/sip-entry-entrypoint"]
