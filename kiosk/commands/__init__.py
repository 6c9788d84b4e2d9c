"""Sub-commands of the ``kiosk`` CLI, one module per area."""
