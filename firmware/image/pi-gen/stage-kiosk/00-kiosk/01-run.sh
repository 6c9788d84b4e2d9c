#!/bin/bash -e
# pi-gen runs this on the build host with ROOTFS_DIR set; KIOSK_SRC points at the checkout.
: "${KIOSK_SRC:?export KIOSK_SRC=/path/to/kios-perlinsos in the pi-gen config}"
KIOSK_WHEELHOUSE="${KIOSK_WHEELHOUSE:-$KIOSK_SRC/firmware/image/wheelhouse}" \
    sh "$KIOSK_SRC/firmware/image/customize.sh" "${ROOTFS_DIR}"
