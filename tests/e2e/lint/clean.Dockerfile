# syntax=docker/dockerfile:1
FROM --platform=$BUILDPLATFORM golang:1.22 AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
COPY . .
RUN GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/app .
FROM debian:bookworm-slim
ARG TARGETARCH
ADD https://example.com/releases/tool-linux-${TARGETARCH}.tar.gz /opt/
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates
COPY --from=build /out/app /usr/local/bin/app
ENTRYPOINT ["/usr/local/bin/app"]
