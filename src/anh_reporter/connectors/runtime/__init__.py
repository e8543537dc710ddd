"""What the three connectors share: reconnect backoff, a supervisor, a bounded outbox, deadband.

* :class:`Backoff`: capped exponential backoff with equal jitter (also used by alert delivery).
* :class:`Supervisor`: keeps one link up: run a session, mark the loss, wait, run it again.
* :class:`Outbox`: the one way from a connector to its sink. A bounded FIFO of batches, sent
  in order; a sink failure is retried with backoff, never dropped; when the outbox is full the
  connector waits for room (it stops taking new data) and the wait is counted.
* :func:`deadband_keep`: the one deadband, over numpy columns (no object per reading).
* :class:`LinkSettings`: the configuration keys the three connector files share.
"""

from anh_reporter.connectors.runtime.backoff import Backoff
from anh_reporter.connectors.runtime.deadband import deadband_keep, deadband_limits
from anh_reporter.connectors.runtime.outbox import (
    SINK_RETRY_INITIAL_S,
    SINK_RETRY_MAX_S,
    Outbox,
    OutboxCounters,
    outbox_for,
)
from anh_reporter.connectors.runtime.settings import RENAMED_KEYS, LinkSettings
from anh_reporter.connectors.runtime.supervisor import Session, Supervisor

__all__ = [
    "RENAMED_KEYS",
    "SINK_RETRY_INITIAL_S",
    "SINK_RETRY_MAX_S",
    "Backoff",
    "LinkSettings",
    "Outbox",
    "OutboxCounters",
    "Session",
    "Supervisor",
    "deadband_keep",
    "deadband_limits",
    "outbox_for",
]
