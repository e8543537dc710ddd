"""What every connector's tag map shares: which series a point feeds, scaling, deadband.

Each connector's own config (``connectors/<name>/config.py``) extends :class:`TagBase` with
its address (node id, register, Sparkplug metric). Tag maps live in YAML beside the site file.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

ByteOrder = Literal["ABCD", "DCBA", "BADC", "CDAB"]
"""Telegraf's vocabulary: ABCD big-endian; DCBA little-endian; BADC and CDAB byte/word-swapped."""


class Deadband(BaseModel):
    """Report a value only when it moved by more than this since the last reported one.

    Applied by :func:`anh_reporter.connectors.runtime.deadband_keep` (or by the OPC UA server);
    a percent deadband is a percentage of the series' engineering span.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["absolute", "percent"] = "absolute"
    value: float = Field(0.0, ge=0)


class TagBase(BaseModel):
    """One point of a device feeding one series."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    series: str = Field(min_length=1, description="Series code, as in the site file")
    scale: float = Field(1.0, description="k in engineering value = raw * k + b")
    offset: float = Field(0.0, description="b in engineering value = raw * k + b")
    deadband: Deadband = Field(default_factory=Deadband)
    sampling_period_s: float = Field(1.0, gt=0, le=86_400)


def scale(raw: npt.NDArray[np.float64], k: float, b: float) -> npt.NDArray[np.float64]:
    """Engineering values from raw ones: ``raw * k + b``."""
    return np.asarray(raw * k + b)
