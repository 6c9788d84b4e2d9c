"""SQLite storage: the registrations and the outbox, with schema migrations."""
