"""Bearer secrets out of logs: query parameters that carry tokens or keys are masked.

uvicorn's access log (``uvicorn.access``) and its WebSocket lines (``uvicorn.error``) write the
path with its query string; an old client may still put ``?token=`` on the WebSocket URL. The
filter rewrites such records before any handler sees them; the audit log uses :func:`redact`.
"""

from __future__ import annotations

import logging
import re

_SECRET_PARAM = re.compile(
    r"(?i)((?:^|[?&])(?:token|access_token|refresh_token|api_key|apikey|key|password)=)[^&\s\"']*"
)
REDACTED = "[redacted]"
LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    """``text`` with the values of secret-bearing query parameters masked."""
    return _SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, text)


class RedactSecrets(logging.Filter):
    """Masks secret query parameters in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drop it."""
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                redact(a) if isinstance(a, str) and "=" in a else a for a in record.args
            )
        return True


def install_log_redaction() -> None:
    """Add the filter to uvicorn's loggers (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
