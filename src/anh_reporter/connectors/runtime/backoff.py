"""Capped exponential backoff with jitter: connector reconnects, sink retries, alert delivery."""

from __future__ import annotations

import random


class Backoff:
    """Capped exponential backoff with equal jitter: attempt n waits in [d/2, d],
    d = min(max_s, initial_s * 2**n).

    The random half keeps many clients from retrying in step after a server restart; the fixed
    half keeps a retry from coming back at once.
    """

    def __init__(self, initial_s: float, max_s: float, *, rng: random.Random | None = None) -> None:
        if not 0 < initial_s <= max_s:
            raise ValueError(
                f"backoff needs 0 < initial_s <= max_s, got initial_s {initial_s} and max_s {max_s}"
            )
        self.initial_s = initial_s
        self.max_s = max_s
        self.attempt = 0
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret

    def ceiling(self, attempt: int) -> float:
        """The longest wait of ``attempt`` (0 based)."""
        return min(self.max_s, self.initial_s * 2.0 ** min(attempt, 62))

    def next_delay(self) -> float:
        """The wait before the next retry; each call counts one more failed attempt."""
        d = self.ceiling(self.attempt)
        self.attempt += 1
        return d / 2 + self._rng.random() * d / 2

    def reset(self) -> None:
        """A success: the next failure starts from ``initial_s`` again."""
        self.attempt = 0
