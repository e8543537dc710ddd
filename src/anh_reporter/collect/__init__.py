"""The edge side of ingest: forward connector batches to the bus, spooling them while it is down."""
