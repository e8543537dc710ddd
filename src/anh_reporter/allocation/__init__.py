"""Well-level production: topology, well tests, hours on, allocation, balances, Forma 9SH.

Pure domain code (Decimal and numpy in, frozen dataclasses out, no I/O); see docs/allocation.md.
"""
