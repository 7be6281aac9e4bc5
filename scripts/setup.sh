#!/usr/bin/env bash
# Set up everything callrec and its tests need on a Debian bookworm machine, idempotently:
# Debian packages, a virtual environment with callrec installed, and the cached Asterisk 22
# sandbox (a Debian unstable root file system built with mmdebstrap from this machine's own
# apt mirror). Needs root for apt, chroot and mount.
set -euo pipefail
cd "$(dirname "$0")/.."

# podman builds and runs the container image in tests/container/ (no daemon; runc because
# crun refuses a hybrid cgroup layout; slirp4netns publishes ports on loopback only).
packages=(mmdebstrap sip-tester espeak-ng ffmpeg postgresql ca-certificates chromium chromium-driver
  podman runc slirp4netns)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

python3 -m venv .venv
.venv/bin/pip install -q -e '.[dev]'

.venv/bin/callrec sandbox build
