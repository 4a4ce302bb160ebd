#!/usr/bin/env bash
# The main job: builds the example application (examples/hello) for the eight bundled platforms
# with `anyarch build`, from the busybox base that examples/assemble.sh put into the local store,
# then shows the result, verifies every platform's binaries and runs it on five platforms.
# Env: ANYARCH_BIN (default build/src/anyarch).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
aa=${ANYARCH_BIN:-$src/build/src/anyarch}
step() { printf '\n==> %s\n' "$*"; }
platforms=linux/amd64,linux/arm64,linux/arm/v7,linux/arm/v5,linux/386,linux/ppc64le,linux/s390x,linux/mips64le

step "anyarch binfmt install (qemu-user for the foreign platforms' RUN steps)"
"$aa" binfmt install >/dev/null

step "anyarch build --platform $platforms -t example/hello:1 examples/hello"
"$aa" build --platform "$platforms" --build-arg BASE=example/busybox:latest \
  -t example/hello:1 "$src/examples/hello"

step "anyarch images"
"$aa" images

step "anyarch verify local:example/hello:1"
"$aa" verify local:example/hello:1

for p in linux/amd64 linux/arm64 linux/arm/v7 linux/ppc64le linux/s390x; do
  step "anyarch run --rm --platform $p example/hello:1"
  "$aa" run --rm --platform "$p" example/hello:1
done
