"""Ingest: columnar batches, validation, quarantine, the writer loop and store-and-forward."""
