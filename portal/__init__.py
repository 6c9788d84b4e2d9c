"""Reference portal receiver: the other end of the kiosk uplink (not installed on kiosks)."""
