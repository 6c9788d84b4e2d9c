"""Use-cases the UI and CLI call; they combine the pure core with the ports (adapters)."""
