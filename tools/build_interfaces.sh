#!/usr/bin/env bash
# Build the vendored vision_msgs interfaces into a venv so it works like a ROS 2 prefix.
# Usage: tools/build_interfaces.sh VENV
# On a robot with a ROS 2 distribution, the real vision_msgs is used instead (interfaces/ has COLCON_IGNORE).
set -euo pipefail

venv=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../interfaces/vision_msgs" && pwd)
py="$venv/bin/python"
build="$venv/.build/vision_msgs"

# The wheels' cmake exports name include paths of the machine that built them; point them at this interpreter.
py_inc=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
np_inc=$("$py" -c 'import numpy; print(numpy.get_include())')
{ grep -rl '/opt/python/cp311-cp311' "$venv"/share/*/cmake/ 2>/dev/null || true; } | while read -r f; do
  sed -i -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#$np_inc#g" \
         -e "s#/opt/python/cp311-cp311/include/python3.11#$py_inc#g" "$f"
done

rm -rf "$build" && mkdir -p "$build"
cd "$build"
export AMENT_PREFIX_PATH="$venv"
cmake "$src" -DCMAKE_PREFIX_PATH="$venv" -DCMAKE_INSTALL_PREFIX="$venv" \
  -DPython3_EXECUTABLE="$py" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=Release >cmake.log 2>&1 \
  || { tail -n 40 cmake.log; exit 1; }
make -j"$(nproc)" >make.log 2>&1 || { tail -n 40 make.log; exit 1; }
make install >install.log 2>&1 || { tail -n 40 install.log; exit 1; }
echo "vision_msgs built into $venv"
