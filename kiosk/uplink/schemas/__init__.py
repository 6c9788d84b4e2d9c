"""JSON Schemas (draft 2020-12) of every JSON message on the uplink, one file per message."""
