"""What a report operation can refuse, with the reason a person can act on."""

from __future__ import annotations

from anh_reporter.errors import AnhError
from anh_reporter.reports.rules import Finding


class ReportError(AnhError):
    """A report operation that cannot be done as asked."""


class ReportBlocked(ReportError):
    """Rule errors or schema problems keep the report from being signed."""

    def __init__(self, message: str, findings: list[Finding]) -> None:
        super().__init__(message)
        self.findings = findings


class ReportNotFound(ReportError):
    """No such report, or version, for the caller."""


class NotSigned(ReportError):
    """The version exists but has no signed document (yet)."""
