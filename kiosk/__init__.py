"""Kios Perlinsos: edge kiosk for social-protection self-registration."""

__version__ = "0.1.0"
