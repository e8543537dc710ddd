"""The ingest bus: carries batches from producers (connectors, files, API) to the writer."""
