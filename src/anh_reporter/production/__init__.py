"""Daily production volumes per official measurement point (PMO), from telemetry."""
