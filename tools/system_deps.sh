#!/usr/bin/env bash
# System libraries the embedded simulator renders with (EGL + Mesa's software renderer).
# Debian machines of the project's kind ship them; install them where they are missing.
set -euo pipefail
# The multi-host tests (test/network: network namespaces, root only) need iproute2 and util-linux's
# unshare; they skip where either is missing. Install iproute2 where this runs as root with apt.
if [ "$(id -u)" = 0 ] && ! command -v ip >/dev/null && command -v apt-get >/dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q iproute2 || \
    echo "warning: iproute2 not installed: the multi-host tests will be skipped" >&2
fi
packages="libegl1 libgl1 libgl1-mesa-dri"
if ldconfig -p | grep -q 'libEGL.so.1' && ls /usr/lib/*/dri/swrast_dri.so >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $packages
else
  echo "error: EGL/Mesa libraries missing; install them with: sudo apt-get install $packages" >&2
  exit 1
fi
