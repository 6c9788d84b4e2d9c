"""Kiosk provisioning: the ``kiosk-provision`` command's steps, self-test, report and reset."""
