"""What the fuzz tests share: the example budget, and text that tends to break parsers."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
"""Modest, so the suite stays fast; ``--hypothesis-profile`` is not needed to run them."""

NASTY_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\u0663\u0664",  # Arabic-Indic digits: int() takes them
            "１２",  # fullwidth digits
            "NaN",
            "-inf",
            "1e309",
            "0x",
            "0xFFFFFFFFF",
            "9" * 30,
            "-" + "9" * 30,
            "2026-01-01",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00Z",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59.999999-14:00",
            "2026-02-30T00:00:00Z",
            '"',
            "a\nb",
            "é" * 3,
        ]
    ),
)
"""Short strings, and ones that are almost numbers, times or quotes."""

BIG_INTS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**31, -(2**31) - 1, 2**32, 2**63 - 1, 2**63, -(2**63), 2**64, 10**30]),
)
"""Integers around every width a parser narrows to."""
