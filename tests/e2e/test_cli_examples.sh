#!/usr/bin/env bash
# Every example in every command's --help runs, verbatim, and succeeds (issue 9: "at least one
# example that the test suite runs verbatim"). The examples name what a reader would have: a
# registry at 127.0.0.1:5000 holding busybox (an index, and single images busybox:amd64, :arm64,
# :arm, :s390x), ./busybox (the busybox OCI layout) and a ./Dockerfile; this test provides exactly
# that, then runs the examples command by command in an order where each finds what an earlier
# one made (pull before export, manifest create before push).
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || fail "needs root"
port=5000
if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then
  fail "127.0.0.1:$port is taken; the help examples use it"
fi
dir=$(mktemp -d "$WORK/registry.XXXXXX")
_registry_config "$dir" "$port"
_serve_registry REG "$dir" "$port" http
assert_eq "$REG" "127.0.0.1:5000" "registry address"
push_busybox "$REG" busybox:latest >/dev/null
for p in amd64 arm64 arm/v7=arm s390x; do
  plat=linux/${p%%=*}
  tag=${p##*=}
  "$AA" --progress quiet copy --platform "$plat" "$REG/busybox:latest" "$REG/busybox:$tag" >/dev/null
done
ex=$WORK/ex
mkdir -p "$ex"
cp -r "$(busybox_layout)" "$ex/busybox"
printf 'ARG VERSION\nFROM --platform=$BUILDPLATFORM busybox AS build\nFROM busybox\nCOPY --from=build /bin/sh /sh\n' \
  >"$ex/Dockerfile"
export PASSWORD=not-checked-by-this-registry

# The commands in the order their examples depend on each other.
order=(lint pull images tag rmi push inspect copy export import run ps rm du verify tags login logout
  "manifest create" "manifest annotate" "manifest inspect" "manifest ls" "manifest push"
  "manifest rm" "manifest merge" manifest prune "store check" store file doctor "binfmt status" "binfmt install"
  "binfmt test" "binfmt uninstall" binfmt build)
top=$("$AA" --help)
# Every command of the top-level help is in the order above (a new command needs its examples
# run here too).
for c in $(printf '%s\n' "$top" | sed -nE 's/^  ([a-z]+) .*/\1/p'); do
  printf '%s\n' "${order[@]}" | grep -qx "$c" || fail "command $c has no place in this test's order"
done

ran=0
for c in "${order[@]}"; do
  # build's examples start FROM busybox: the store holds it under that name, as after a pull.
  if [ "$c" = build ]; then
    "$AA" --progress quiet copy --all "oci:$ex/busybox:latest" local:busybox:latest >/dev/null ||
      fail "busybox into the local store for build's examples"
    "$AA" binfmt install arm64 arm >/dev/null || fail "binfmt install for build's examples"
  fi
  # shellcheck disable=SC2086
  help=$("$AA" $c --help) || fail "$c --help failed"
  mapfile -t lines < <(printf '%s\n' "$help" | sed -n '/^Examples\?:$/,$p' | sed -nE 's/^  (.*anyarch .*)$/\1/p')
  [ "${#lines[@]}" -gt 0 ] || fail "$c --help has no examples"
  for line in "${lines[@]}"; do
    cmd=${line%%  #*}  # a trailing "  # comment" is part of the example text
    (cd "$ex" && PATH="$(dirname "$AA"):$PATH" bash -o pipefail -c "$cmd") >"$WORK/ex.out" 2>"$WORK/ex.err" \
      || fail "example of '$c' failed: $line
$(tail -n 5 "$WORK/ex.err")"
    ran=$((ran + 1))
  done
done
pass "$ran help examples ran verbatim and succeeded"
