"""The USB path for weeks without network: export the sealed backlog to a stick, bring back
the portal's signed ack file, purge on the portal's acks only (docs/protocol.md, "USB stick")."""
