"""Field protocol connectors: they map protocol data to columnar batches, nothing more."""
