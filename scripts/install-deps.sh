#!/usr/bin/env bash
# Installs every Debian package anyarch needs to build, test and benchmark.
# Idempotent: packages already present are skipped by apt. Run as root on Debian 12.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config git clang clang-format libclang-rt-14-dev
  libssl-dev libcurl4-openssl-dev nlohmann-json3-dev libexpected-dev libcli11-dev
  libtomlplusplus-dev libarchive-dev zlib1g-dev libzstd-dev libisal-dev
  libgtest-dev libgmock-dev libbenchmark-dev libseccomp-dev xxd
)
test_pkgs=(
  docker-registry apache2-utils openssl curl python3 skopeo buildah umoci oci-image-tool
  qemu-user-static busybox-static file jq time dpkg-dev docker.io python3-cryptography uidmap
  slirp4netns
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: must run as root (apt-get install)" >&2
  exit 1
fi

missing=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian docker-registry package starts a system service on port 5000; the tests run their own
# instances on ephemeral ports, so the system one is stopped to keep the machine quiet.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
  # docker.io is there for the docker-archive test, which runs its own dockerd on a private
  # socket; the system service is not needed.
  systemctl disable --now docker.service docker.socket >/dev/null 2>&1 || true
fi
