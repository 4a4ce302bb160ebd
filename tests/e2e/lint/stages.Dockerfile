# A base stage whose ARGs and ENV its children inherit, per-architecture stages picked with
# ${TARGETARCH}, a quoted heredoc and cross-compiler packages: nothing here is a trap.
FROM alpine:3.19 AS base
ARG TARGETARCH
ENV GOARCH=$TARGETARCH
FROM base AS tools-amd64
RUN echo "tools for $TARGETARCH ($GOARCH)" > /tools
FROM base AS tools-arm64
RUN echo "tools for $TARGETARCH ($GOARCH)" > /tools
FROM tools-${TARGETARCH}
COPY <<'EOF' /etc/motd
built for $TARGETARCH
EOF
RUN apk add --no-cache gcc-aarch64-none-elf && echo "$GOARCH" > /arch
