"""Cryptography: at-rest sealing with the device data key, and portal envelopes."""
