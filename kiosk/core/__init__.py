"""The pure core: rules and state machines with no I/O.

Nothing under ``kiosk.core`` imports Flask, paho-mqtt, sqlite3, the camera, GPIO or any other
part of the project outside ``kiosk.core`` and ``kiosk.errors``. Time is injected as a
:class:`~kiosk.core.clock.Clock`.
"""
