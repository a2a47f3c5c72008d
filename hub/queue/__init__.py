"""The durable queue: the tables, the store that accepts events with their deliveries, the
claims that lease them to workers, the dispatcher that runs one, the writer that commits
them and the worker loop."""
