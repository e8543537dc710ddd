"""Alembic migrations (date-named), run through :mod:`anh_reporter.storage.migrate`."""
