"""Security operations: the IEC 62443-3-3 self-assessment and key management commands."""
