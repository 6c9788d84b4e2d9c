"""The device layer: GPIO peripherals, status lights, supervision, systemd units, OS image."""

from __future__ import annotations

from .device import Device, build_device
from .indicators import Status

__all__ = ["Device", "Status", "build_device"]
