#!/usr/bin/env bash
# Fills a seed corpus directory for one fuzz target. Usage: fuzz/seeds.sh TARGET DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
target=$1
out=$2
mkdir -p "$out"
i=0
case "$target" in
  parser_fuzz)
    for f in "$src"/tests/dockerfiles/*/Dockerfile "$src"/tests/e2e/lint/*.Dockerfile; do
      cp "$f" "$out/seed$((i++))"
    done
    ;;
  expand_fuzz)
    for s in '$A ${B:-x} ${C:+y}' '"${A}" '"'"'$B'"'"' \$C' '${A-${B+z}}' '${EMPTY:?msg}' \
      'a\ b "c d" $S' '`$A `${B}' '${A%x} ${' "'open" '"open'; do
      printf 'x%s' "$s" >"$out/seed$((i++))"
    done
    # Raw mode (second bit of the first byte), as for COPY heredoc bodies.
    for s in $'echo "$A" \'$B\' \\$C\n${D:-\'x y\'}\n' '${A:?msg} "open'; do
      printf 'z%s' "$s" >"$out/seed$((i++))"
    done
    ;;
  dockerignore_fuzz)
    # Patterns, a NUL byte, then paths one per line.
    printf '%s\0%s' $'**.go\n!cmd/**\n/build\n../x\n[^a]b\n*.md\n!README.md' \
      $'main.go\ncmd/app/main.go\nbuild/out\nx\nab\nxb\ndocs/a.md\nREADME.md' >"$out/seed$((i++))"
    printf '%s\0%s' $'a/**/b\nfoo**\n\\*x\n**/vendor\na**/*.txt' \
      $'a/b\na/x/y/b\nfoobar/q\n*x\nvendor/z\na/dir/f.txt' >"$out/seed$((i++))"
    ;;
  ref_fuzz)
    for s in busybox docker.io/library/busybox:1.36 'UPPER/x' '[::1]:5000/x' \
      '127.0.0.1:5000/a/b:c@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'; do
      printf '%s' "$s" >"$out/seed$((i++))"
    done
    ;;
  elf_fuzz)
    # Real binaries when the busybox cache exists, else this machine's own.
    for f in "${ANYARCH_CACHE:-$src/cache}"/busybox/*/busybox /bin/true; do
      [ -f "$f" ] && head -c 65536 "$f" >"$out/seed$((i++))"
    done
    ;;
  *)
    printf 'x' >"$out/seed0"
    ;;
esac
