"""The portal ingest service: stateless workers on a shared subscription writing to a store."""
