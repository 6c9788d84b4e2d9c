#!/bin/sh
# Build the kiosk OS image with rpi-image-gen on a 64-bit Raspberry Pi OS / Debian host.
#   firmware/image/build.sh [RPI_IMAGE_GEN_DIR]
#   firmware/image/build.sh --wheels-only        (just the wheelhouse, e.g. for pi-gen)
# 1. wheelhouse: the kiosk wheel + aarch64 wheels of its pinned dependencies (offline install)
# 2. rpi-image-gen build with our layer and config
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
IG=${1:-$HOME/rpi-image-gen}
WHEELS="$HERE/wheelhouse"
PY=${PYTHON:-python3}

rm -rf "$WHEELS"; mkdir -p "$WHEELS"
"$PY" -m pip wheel --no-deps --wheel-dir "$WHEELS" "$REPO"
"$PY" -m pip download --dest "$WHEELS" --only-binary=:all: \
    --platform manylinux_2_28_aarch64 --platform manylinux2014_aarch64 \
    --platform manylinux_2_17_aarch64 --python-version 3.11 --implementation cp \
    --constraint "$HERE/constraints.txt" "$WHEELS"/kios_perlinsos-*.whl

[ "$IG" = "--wheels-only" ] && { echo "wheelhouse: $WHEELS"; exit 0; }
[ -x "$IG/rpi-image-gen" ] || { echo "rpi-image-gen not found at $IG (git clone it)" >&2; exit 1; }
cd "$IG"
./rpi-image-gen build -S "$HERE/rpi-image-gen" -c kiosk-perlinsos.yaml
echo "image: $IG/work/deploy/ (flash with rpi-imager or: bmaptool copy IMAGE.img /dev/sdX)"
