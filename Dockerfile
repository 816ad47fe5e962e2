# syntax=docker/dockerfile:1
#
# AINKA image: the daemon and the CLI, statically linked, on a distroless
# base. Build from the repository root:
#
#   docker build -t ainka:latest .
#
# Run (the daemon needs the host's kernel interfaces; see
# deploy/kubernetes/daemonset.yaml for what each mount is for):
#
#   docker run --rm --privileged --pid=host --network=host \
#     -v /sys/kernel/btf:/sys/kernel/btf:ro -v /sys/kernel/tracing:/sys/kernel/tracing \
#     -v /sys/fs/cgroup:/sys/fs/cgroup -v /sys/fs/bpf:/sys/fs/bpf \
#     -v /run/ainka:/run/ainka -v /var/lib/ainka:/var/lib/ainka ainka:latest
#
# The eBPF object is compiled ahead of time and committed (bpf2go output),
# so the build needs no clang: only the Go toolchain.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so source edits reuse the download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# CGO off: a static binary for the distroless base (os/user falls back to
# reading /etc/group, which is what socket_group needs).
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/ainka ./cmd/ainka-cli
RUN mkdir -p /out/etc/ainka /out/share/traces \
 && cp packaging/config.toml /out/etc/ainka/config.toml \
 && cp policies/default.toml /out/etc/ainka/policies.toml \
 && (cp testdata/traces/*.trace /out/share/traces/ 2>/dev/null || true)

# Test stage: `docker build --target test .` runs the unit tests that do not
# need the host kernel (the others skip without root and BTF).
FROM build AS test
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go test ./config/... ./control/... ./cmd/ainka-cli/...

FROM gcr.io/distroless/static-debian12 AS runtime
# Root is required: loading eBPF programs and writing kernel knobs need it
# (or the capabilities listed in packaging/ainka.service).
USER 0:0
COPY --from=build /out/ainka /out/ainka-cli /usr/local/bin/
COPY --from=build /out/etc/ainka/ /etc/ainka/
COPY --from=build /out/share/traces/ /usr/local/share/ainka/traces/
ENV AINKA_SOCKET=/run/ainka/ainka.sock
VOLUME ["/var/lib/ainka", "/run/ainka"]
ENTRYPOINT ["/usr/local/bin/ainka"]
CMD ["run", "--config", "/etc/ainka/config.toml"]
