"""Generator parameters for every series of a site file: one place for all simulators.

Keys are the series' database ids when known (so live values continue the backfilled
history), otherwise 1, 2, ... in site-file order (the ids a fresh database gives them). Every
series of one PMO or well shares a ``group``, so a well's pump status and its pump-driven
series (speed, current) cycle together.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping

from anh_reporter.domain.timeutil import to_us
from anh_reporter.errors import ConfigError
from anh_reporter.simulator.signals import SignalSpec
from anh_reporter.site import Site, series_code


def default_keys(site: Site) -> dict[str, int]:
    """1, 2, ... in site-file order: the ids a fresh database gives the series."""
    return {code: i for i, (code, _) in enumerate(site.series_codes(), start=1)}


def site_signal_specs(
    site: Site, keys: Mapping[str, int] | None = None, *, partial: bool = False
) -> dict[str, SignalSpec]:
    """A :class:`SignalSpec` per series code (``partial``: only those ``keys`` names)."""
    keys = default_keys(site) if keys is None else keys
    out: dict[str, SignalSpec] = {}
    for field in site.fields:
        owners = [(p.code, p.series) for p in field.pmos] + [
            (w.code, w.series) for w in field.wells
        ]
        for owner, series in owners:
            group = zlib.crc32(f"{field.code}/{owner}".encode())
            for conf in series:
                code = series_code(field.code, owner, conf)
                if code not in keys:
                    if partial:
                        continue
                    raise ConfigError(
                        f"series {code!r} has no generator key; keys were given for {len(keys)} "
                        "series (load the site into the database first)"
                    )
                commissioned = dt.datetime.combine(conf.commissioned, dt.time(), dt.UTC)
                out[code] = SignalSpec(
                    key=keys[code],
                    variable=conf.variable,
                    range_lo=conf.range[0],
                    range_hi=conf.range[1],
                    commissioned_us=to_us(commissioned),
                    rollover=conf.rollover,
                    params=dict(conf.simulation),
                    group=group,
                )
    return out
