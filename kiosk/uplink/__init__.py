"""MQTT uplink to the portal: topics, schemas, the outbox relay, inbound handlers, heartbeat."""
