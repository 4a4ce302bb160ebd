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
  manifest_fuzz)
    # First byte: the transport's media type (0 none, 1 OCI index, 2 OCI manifest, 3 Docker list,
    # 4 Docker manifest). Real documents from the busybox layout when the cache exists, and
    # hand-written ones of every kind.
    layout="${ANYARCH_CACHE:-$src/cache}/base-images/busybox"
    if [ -d "$layout/blobs/sha256" ]; then
      for f in "$layout/index.json" $(find "$layout/blobs/sha256" -type f -size -64k); do
        if [ "$(head -c 1 "$f")" = "{" ]; then
          { printf '\0'; cat "$f"; } >"$out/seed$((i++))"
        fi
      done
    fi
    e3=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
    d1=sha256:1111111111111111111111111111111111111111111111111111111111111111
    idx='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'$d1'","size":500,"platform":{"architecture":"arm","os":"linux","variant":"v7"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'$e3'","size":0,"platform":{"architecture":"amd64","os":"linux","os.features":["x"]},"annotations":{"a":"b"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'$e3'","size":0}],"annotations":{"org.opencontainers.image.ref.name":"latest"}}'
    list='{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"'$d1'","size":7,"platform":{"architecture":"aarch64","os":"linux","variant":"v8"}},{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"'$e3'","size":9,"platform":{"architecture":"386","os":"linux"}}]}'
    oci='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"'$d1'","size":300},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"'$e3'","size":0,"urls":["http://127.0.0.1/x"]}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"'$e3'","size":0},"annotations":{"k":"v"}}'
    docker='{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"'$d1'","size":300},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"'$e3'","size":0}]}'
    config='{"architecture":"arm64","os":"linux","variant":"v8","created":"2026-01-01T00:00:00Z","config":{"Env":["PATH=/bin"],"Entrypoint":["/bin/sh"],"Cmd":["-c","true"],"WorkingDir":"/","User":"1:1","Labels":{"a":"b"}},"rootfs":{"type":"layers","diff_ids":["'$e3'"]}}'
    printf '\1%s' "$idx" >"$out/seed$((i++))"
    printf '\0%s' "$idx" >"$out/seed$((i++))"
    printf '\3%s' "$list" >"$out/seed$((i++))"
    printf '\2%s' "$oci" >"$out/seed$((i++))"
    printf '\0%s' "${oci/\"mediaType\":\"application\/vnd.oci.image.manifest.v1+json\",/}" >"$out/seed$((i++))"
    printf '\4%s' "$docker" >"$out/seed$((i++))"
    printf '\0%s' "$config" >"$out/seed$((i++))"
    printf '\5%s' '{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[]}' >"$out/seed$((i++))"
    ;;
  wire_fuzz)
    # First byte picks the parser: 0 WWW-Authenticate, 1 token response, 2 error body, 3 Link,
    # 4 Content-Range. The shapes docker-registry and its token servers send.
    for s in 'Bearer realm="http://127.0.0.1:5001/token",service="anyarch-test-registry",scope="repository:busybox:pull,push"' \
      'Basic realm="anyarch-test"' 'Bearer realm="https://auth.example/token",service="registry",error="insufficient_scope",scope="repository:a:pull repository:b:pull"' \
      'bearer realm=x, scope="a\"b"'; do
      printf '\0%s' "$s" >"$out/seed$((i++))"
    done
    for s in '{"token":"eyJhbGciOiJSUzI1NiJ9.e30.c2ln","access_token":"eyJ","expires_in":300,"issued_at":"2026-01-01T00:00:00Z"}' \
      '{"access_token":"a","refresh_token":"r","expires_in":1e300}' '{"token":"t","expires_in":-5}' '{"token":""}'; do
      printf '\1%s' "$s" >"$out/seed$((i++))"
    done
    for s in '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"nope"}}]}' \
      '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}' \
      '<html><body>502 Bad Gateway</body></html>' '{"errors":[7,{"code":1}]}'; do
      printf '\2%s' "$s" >"$out/seed$((i++))"
    done
    for s in '</v2/busybox/tags/list?last=b&n=2>; rel="next"' \
      '<https://r.example/v2/x/tags/list?n=1&last=a>; rel="prev", </v2/x/tags/list?n=1&last=c>; rel="next last"' \
      '<a,b>; title="x, <y>"; rel=next'; do
      printf '\3%s' "$s" >"$out/seed$((i++))"
    done
    for s in 'bytes 100-199/1000' 'bytes 0-0/*' 'bytes 5-4/10' 'bytes 18446744073709551615-18446744073709551616/1'; do
      printf '\4%s' "$s" >"$out/seed$((i++))"
    done
    ;;
  config_fuzz)
    # Even first byte: the registries config (TOML); odd: config.json, NUL, a helper's answer.
    # The example of docs/transfer.md, and one with sections and values anyarch refuses or ignores.
    { printf '\0'; awk '/^```toml/{f=1;next} /^```/{f=0} f' "$src/docs/transfer.md"; } >"$out/seed$((i++))"
    printf '\0%s' '[worker.oci]
enabled = true
[registry."docker.io"]
mirrors = ["https://127.0.0.1:5001/", ""]
' >"$out/seed$((i++))"
    printf '\0%s' '[registry."index.docker.io"]
ca = "/one.pem"
insecure = "yes"
' >"$out/seed$((i++))"
    printf '\1%s\0%s' '{"auths":{"127.0.0.1:5000":{"auth":"dXNlcjpzM2NyM3Q="},"https://index.docker.io/v1/":{"username":"u","password":"p"},"http://r.example/v2/":{"identitytoken":"rt"}},"credHelpers":{"127.0.0.1:5000":"test"},"credsStore":"pass"}' \
      '{"ServerURL":"127.0.0.1:5000","Username":"user","Secret":"s3cr3t"}' >"$out/seed$((i++))"
    printf '\1%s\0%s' '{"auths":{"127.0.0.1:5000":{"auth":"bm9jb2xvbg=="}}}' \
      '{"ServerURL":"x","Username":"<token>","Secret":"refresh"}' >"$out/seed$((i++))"
    ;;
  archive_fuzz)
    # Even first byte: a docker-archive manifest.json; odd: oci-layout, NUL, index.json.
    printf '\0%s' '[{"Config":"4a1b.json","RepoTags":["app:1","docker.io/library/app:2","127.0.0.1:5000/x/y:z"],"Layers":["6c1d/layer.tar","blobs/sha256/9f86"]},{"Config":"b.json","RepoTags":null,"Layers":[]}]' >"$out/seed$((i++))"
    printf '\0%s' '[{"Config":"c.json","RepoTags":["index.docker.io/busybox"],"Layers":["../x"]}]' >"$out/seed$((i++))"
    printf '\1%s\0%s' '{"imageLayoutVersion":"1.0.0"}' \
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' >"$out/seed$((i++))"
    printf '\1%s\0%s' '{"imageLayoutVersion":"2.0"}' '{"schemaVersion":2,"manifests":[]}' >"$out/seed$((i++))"
    ;;
  unpack_fuzz)
    # First byte: apply once (even) or twice (odd). Hostile tars: paths climbing out, absolute
    # paths, a symlink out and a write through it, a hard link to a file outside, devices,
    # whiteouts and opaque directories; plain, gzip and zstd.
    python3 - "$out" <<'PY'
import io, sys, tarfile, gzip
out = sys.argv[1]
def tar(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, arg in entries:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
                t.addfile(ti)
            elif kind == "file":
                data = arg.encode()
                ti.size, ti.mode = len(data), 0o644
                t.addfile(ti, io.BytesIO(data))
            elif kind == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, arg
                t.addfile(ti)
            elif kind == "hard":
                ti.type, ti.linkname = tarfile.LNKTYPE, arg
                t.addfile(ti)
            elif kind == "chr":
                ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
                t.addfile(ti)
            elif kind == "fifo":
                ti.type = tarfile.FIFOTYPE
                t.addfile(ti)
    return b.getvalue()
seeds = [
    [("./", "dir", None), ("bin", "dir", None), ("bin/sh", "file", "#!"), ("etc/passwd", "file", "root:x:0:0")],
    [("out", "sym", "../outside"), ("out/secret", "file", "pwned"), ("abs", "sym", "/"), ("abs/outside/x", "file", "x")],
    [("../outside/secret", "file", "x")],
    [("/outside/new", "file", "x"), ("up", "sym", "../../.."), ("up/tmp/x", "file", "y")],
    [("h", "hard", "../outside/secret"), ("s", "sym", "../outside/secret"), ("l", "hard", "s"), ("l", "file", "z")],
    [("dev/null", "chr", None), ("p", "fifo", None), ("d", "dir", None), ("d/.wh..wh..opq", "file", ""), ("d/.wh.x", "file", "")],
    [("a", "dir", None), ("a", "sym", "../outside"), ("a/b", "dir", None), ("./", "sym", "..")],
]
i = 0
for n, entries in enumerate(seeds):
    t = tar(entries)
    for prefix, blob in ((b"\0", t), (b"\1", t), (b"\0", gzip.compress(t, mtime=0))):
        with open("%s/seed%d" % (out, i), "wb") as f:
            f.write(prefix + blob)
        i += 1
PY
    if command -v zstd >/dev/null; then
      for f in "$out"/seed0 "$out"/seed3; do
        { printf '\0'; tail -c +2 "$f" | zstd -q -c; } >"$f.zst"
      done
    fi
    ;;
  options_fuzz)
    # First byte % 8 picks the flag: 0 --output, 1 --secret, 2 RUN --mount (one per line; the
    # byte / 8 picks the expander, the flag path and the working directory), 3 RUN --network,
    # a newline, --security, 4 --platform, 5 --build-context VALUE, 6 --compression,
    # 7 --cache-from (byte / 8 odd: --cache-to). Values as buildx users write them, and
    # malformed ones.
    long=$(head -c 5000 /dev/zero | tr '\0' 'a')
    malformed=('' '=' ',,,' '"' '"a,b"' "'x'" "type=$long" "$long")
    for s in 'type=oci,dest=out.tar' 'type=docker,dest=-,name=app:1' 'type=local,dest=dir' \
      'type=tar,dest=out.tar' 'type=registry,name=r/x:1,push-by-digest=true' \
      'type=image,name=127.0.0.1:5000/app:1,push=true,compression=zstd,oci-mediatypes=false' \
      'out' '-' ' TYPE = oci , DEST = x ' 'type=oci' 'type=bogus,dest=x' 'type=oci,dest=x,foo=1' \
      "${malformed[@]}"; do
      printf '\0%s' "$s" >"$out/seed$((i++))"
    done
    for s in 'id=tok,src=./f' 'id=x,env=VAR' 'id=x,type=env' 'id=x,type=file,source=/run/f' \
      'id=a' 'src=./f' 'id=,src=f' 'id=x,unknown=1' "${malformed[@]}"; do
      printf '\1%s' "$s" >"$out/seed$((i++))"
    done
    for s in 'type=cache,target=/root/.cache,sharing=locked,id=a' \
      'type=bind,from=stage,source=/a,target=/b,rw' \
      'type=secret,id=s,required=true,mode=0400,uid=1' 'type=tmpfs,target=/t,size=10m' \
      'type=ssh' $'type=ssh\ntype=ssh,id=key,required' 'type=secret,id=s,env=TOKEN' \
      'target=rel/dir' 'type=cache,target=.,uid=1000,gid=1000,mode=0777' \
      '"type=bind","source=a,b",target=/c' 'type=tmpfs,target=/t,size=1.5GiB,ro=false' \
      'type=tmpfs,target=/t,size=16384p' \
      'type=cache,target=$DIR,id=$ID' 'type=$T,target=/x,size=1m' 'target=/' \
      'type=bind,required' 'type=secret,source=a,id=b' 'mode=0644' 'size=1g' \
      'type=cache,sharing=bogus' 'type=secret,from=x,id=y' 'type=bind,target="/x""y"' \
      "${malformed[@]}"; do
      for m in 0 8 16 40 64 104; do
        printf "\\$(printf '%03o' $((m + 2)))%s" "$s" >"$out/seed$((i++))"
      done
    done
    for s in 'default' 'none' $'host\nsandbox' $'none\ninsecure' 'bridge' $'\nx' "${malformed[@]}"; do
      printf '\3%s' "$s" >"$out/seed$((i++))"
    done
    for s in 'linux/amd64,linux/arm64' 'linux/arm/v7,linux/arm,arm64' 'local,linux/riscv64' \
      'aarch64, x86_64' 'linux/arm/v6/x' 'windows/amd64' 'linux//amd64' 'amd46' "${malformed[@]}"; do
      printf '\4%s' "$s" >"$out/seed$((i++))"
    done
    for s in 'oci:./layout:1' 'oci-archive:img.tar' 'docker-archive:img.tar:app:1' \
      'local:busybox' 'docker-image://alpine:3.19' 'docker-image://127.0.0.1:5000/x@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
      './dir' 'docker://busybox' 'dir:/x' 'oci:' 'oci:x:-bad' "${malformed[@]}"; do
      printf '\5%s' "$s" >"$out/seed$((i++))"
    done
    for s in gzip zstd uncompressed none GZIP ''; do
      printf '\6%s' "$s" >"$out/seed$((i++))"
    done
    for s in 'type=registry,ref=127.0.0.1:5000/cache:app,mode=max' 'type=local,dest=dir' \
      'type=local,src=dir' 'registry.example/cache:x' 'type=inline' 'type=gha,scope=x' \
      'type=registry' 'type=local,dest=a:b' 'type=registry,ref=oci:x' 'mode=max' \
      'type=registry,ref=r/x,mode=all' 'type=local,src=d,image-manifest=true,foo=1' 'dir:/x' \
      "${malformed[@]}"; do
      printf '\7%s' "$s" >"$out/seed$((i++))"
      printf '\17%s' "$s" >"$out/seed$((i++))"
    done
    ;;
  gzip_fuzz)
    # First byte: the read size. gzip members from Python's gzip (with and without a name, at
    # levels 1 and 9), two members back to back, trailing bytes, a truncated one.
    python3 - "$out" <<'PY'
import gzip, io, os, sys
out = sys.argv[1]
text = b"".join(b"line %d of a layer\n" % i for i in range(3000))
def member(data, level=6, name=None):
    b = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", compresslevel=level, fileobj=b, mtime=0) as f:
        f.write(data)
    return b.getvalue()
seeds = [member(text), member(text, 1), member(text, 9, "layer.tar"), member(b""),
         member(b"one ") + member(b"two"), member(text) + b"\0" * 30, member(text)[:200],
         member(os.urandom(5000), 1)]
for i, s in enumerate(seeds):
    with open(os.path.join(out, "seed%d" % i), "wb") as f:
        f.write(bytes([i * 13 % 256]) + s)
PY
    ;;
  *)
    printf 'x' >"$out/seed0"
    ;;
esac
