"""ANH Smart Reporter: field telemetry to the signed ANH daily production report."""

__version__ = "0.1.0"
