# Every multi-architecture trap anyarch lint knows, one per line.
ARG VERSION=1.2.3
FROM arm64v8/debian:bookworm AS base
FROM --platform=linux/amd64 golang:1.22 AS tools
RUN go install example.com/tool@latest
FROM alpine:3.19${FLAVOR} AS unused
FROM debian:bookworm
MAINTAINER ops@example.com
ADD https://example.com/releases/tool-${VERSION}-linux-amd64.tar.gz /opt/
RUN curl -fsSL https://example.com/bin/x86_64/helper -o /usr/local/bin/helper
COPY --from=tools /go/bin/tool /usr/local/bin/
RUN echo "building for $TARGETARCH"
RUN apt-get update && apt-get install curl
CMD ['helper', '--serve']
RUN ["apt-get", "install", "jq"]
