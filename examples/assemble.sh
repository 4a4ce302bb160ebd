#!/usr/bin/env bash
# Assembles the bundled multi-platform example: a busybox image for eight platforms (linux/amd64,
# arm64, arm/v7, arm/v5, 386, ppc64le, s390x, mips64le) built from Debian's busybox-static .debs,
# then puts it into anyarch's local store and shows it. Run as root on Debian 12 (scripts/demo.sh
# runs it after building). Env: ANYARCH_BIN (default build/src/anyarch), ANYARCH_CACHE (default
# cache/), EXAMPLE_OUT (default out/example). Output layout: $EXAMPLE_OUT/busybox
# (oci:out/example/busybox:latest).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
aa=${ANYARCH_BIN:-$src/build/src/anyarch}
export ANYARCH_CACHE=${ANYARCH_CACHE:-$src/cache}
layout=${EXAMPLE_OUT:-$src/out/example}/busybox
step() { printf '\n==> %s\n' "$*"; }
# have CMD: whether this anyarch build has the subcommand (listed in the top-level help).
help_text=$("$aa" --help)
have() { grep -qE "^  $1( |\$)" <<<"$help_text"; }

step "Fetching Debian's busybox-static for eight architectures"
bash "$src/scripts/fetch-busybox.sh"

step "Building the multi-platform OCI image (deterministic) into ${layout#"$src"/}"
bash "$src/tests/tools/build_busybox_layout.sh" "$layout"

ref=oci:$layout:latest
if have copy; then
  step "anyarch copy --all $ref local:example/busybox:latest"
  "$aa" copy --all "$ref" local:example/busybox:latest
  shown=local:example/busybox:latest
  if have images; then
    step "anyarch images"
    "$aa" images
  fi
else
  shown=$ref
fi

if have inspect; then
  step "anyarch inspect $shown"
  "$aa" inspect "$shown"
fi

step "anyarch verify $shown (every ELF in every platform's image matches its platform)"
"$aa" verify "$shown"

# Running foreign platforms needs qemu-user registered with binfmt_misc.
if have run; then
  if "$aa" binfmt install >/dev/null 2>&1; then
    for p in linux/amd64 linux/arm64 linux/arm/v7 linux/ppc64le linux/s390x; do
      step "anyarch run --rm --platform $p $shown uname -m"
      "$aa" run --rm --platform "$p" "$shown" uname -m || echo "(run on $p failed; see 'anyarch doctor')"
    done
  else
    echo "(skipping run: 'anyarch binfmt install' failed; see 'anyarch doctor')"
  fi
fi
