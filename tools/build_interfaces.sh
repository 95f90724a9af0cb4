#!/usr/bin/env bash
# Build the vendored interface packages (vision_msgs, tf2_msgs) into a venv so it works like a ROS 2 prefix.
# Usage: tools/build_interfaces.sh VENV [PACKAGE...]   (default: every package, in dependency order)
# On a robot with a ROS 2 distribution, the real packages are used instead (interfaces/ has COLCON_IGNORE).
set -euo pipefail

venv=$(cd "$1" && pwd)
interfaces=$(cd "$(dirname "$0")/../interfaces" && pwd)
shift
packages=("$@")
[ ${#packages[@]} -gt 0 ] || packages=(vision_msgs tf2_msgs)
py="$venv/bin/python"

# The wheels' cmake exports name include paths of the machine that built them; point them at this interpreter.
py_inc=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
np_inc=$("$py" -c 'import numpy; print(numpy.get_include())')
{ grep -rl '/opt/python/cp311-cp311' "$venv"/share/*/cmake/ 2>/dev/null || true; } | while read -r f; do
  sed -i -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#$np_inc#g" \
         -e "s#/opt/python/cp311-cp311/include/python3.11#$py_inc#g" "$f"
done

export AMENT_PREFIX_PATH="$venv"
for pkg in "${packages[@]}"; do
  src="$interfaces/$pkg"
  build="$venv/.build/$pkg"
  [ -f "$src/package.xml" ] || { echo "error: no interface package $src" >&2; exit 1; }
  rm -rf "$build" && mkdir -p "$build"
  (
    cd "$build"
    cmake "$src" -DCMAKE_PREFIX_PATH="$venv" -DCMAKE_INSTALL_PREFIX="$venv" \
      -DPython3_EXECUTABLE="$py" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release >cmake.log 2>&1 \
      || { tail -n 40 cmake.log; exit 1; }
    make -j"$(nproc)" >make.log 2>&1 || { tail -n 40 make.log; exit 1; }
    make install >install.log 2>&1 || { tail -n 40 install.log; exit 1; }
  )
  echo "$pkg built into $venv"
done
