"""Split a volume in proportion to weights, in whole increments, so the parts add up exactly.

The largest-remainder (Hamilton) method in integer arithmetic: each part gets the whole number
of increments of its exact share (rounded down); the increments left over go one each to the
parts with the largest remainders, ties broken by the parts' keys (well codes) in ascending
order, so that the result never depends on the order the wells are given in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from anh_reporter.allocation.errors import AllocationError, require_multiple


def scaled_integers(values: Sequence[Decimal]) -> list[int]:
    """Non-negative finite Decimals as integers on one common scale (exact, no rounding).

    Each value times the least common denominator of the values' exact fractions:
    ``[1.5, 2.25, 3]`` → ``[6, 9, 12]``. Proportions between the integers are exactly those
    between the values, which is all a proportional split needs.
    """
    if not values:
        return []
    ratios = [v.as_integer_ratio() for v in values]
    common = math.lcm(*(d for _, d in ratios))
    out = [n * (common // d) for n, d in ratios]
    for value, weight in zip(values, out, strict=True):
        if weight < 0:
            raise AllocationError(f"weight {value} is negative; weights must be >= 0")
    return out


def largest_remainder(
    total: Decimal,
    weights: Sequence[int],
    keys: Sequence[str],
    increment: Decimal,
) -> list[Decimal]:
    """Parts of ``total`` proportional to integer ``weights``, in whole ``increment`` steps.

    ``total`` must be a whole number of increments and ``sum(weights)`` positive. The parts are
    non-negative and add up to ``total`` exactly; ties go to the smaller key.
    """
    if len(weights) != len(keys):
        raise AllocationError(f"{len(weights)} weights for {len(keys)} keys")
    whole = sum(weights)
    if whole <= 0:
        raise AllocationError("the weights add up to 0: nothing to split in proportion to")
    require_multiple("volume to split", total, increment)
    units = int(total / increment)
    shares = [divmod(units * w, whole) for w in weights]
    left = units - sum(q for q, _ in shares)
    order = sorted(range(len(weights)), key=lambda i: (-shares[i][1], keys[i]))
    counts = [q for q, _ in shares]
    for i in order[:left]:
        counts[i] += 1
    return [increment * c for c in counts]
