"""A simulated field: deterministic signals, later served over OPC UA and Modbus."""
