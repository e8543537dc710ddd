"""The centre side of ingest: validation, quarantine, the writer loop, CSV files."""
