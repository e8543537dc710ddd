"""``python -m anh_reporter`` runs the CLI."""

from anh_reporter.cli import main

main()
