"""One contract day of telemetry samples → a daily volume (measured + estimated) and its quality.

Pure numerics: numpy arrays in, frozen dataclasses out; no database, no I/O.

* :mod:`.inputs`: what the arrays must be (µs times strictly increasing; OPC UA quality; a
  sample is usable iff Good and finite). Errors name the argument, the value and the limit.
* :mod:`.coverage`: flow-time coverage, gaps, and the explained 0–100 quality score.
* :mod:`.parts`: a day's volume as a measured part plus estimated parts, each with its window
  and method; manual windows; the measured share (completeness).
* :mod:`.counter`: every step of a totalizer classified: ordinary, backstep, rollover, reset.
* :mod:`.totalizer`: exact daily volume from a totalizer (:func:`totalizer_volume`).
* :mod:`.rate`: daily volume from a flow rate (:func:`integrate_rate`).
* :mod:`.rate_curve`: a rate series a totalizer leans on for splits and estimates.
* :mod:`.properties`: flow-weighted averages of temperature, pressure, BSW, API gravity.

The contract day is the half-open window ``[day_start_us, day_end_us)``, taken as given (not
assumed to be 24 h). Pass the samples just outside it too: they interpolate the edges, and for a
totalizer they carry the counter difference across a gap that straddles the contract hour.
"""

from .counter import CounterSpec
from .coverage import DEFAULT_SCORING, DayQuality, Gap, QualityScore, QualityScoring
from .inputs import SECONDS_PER_DAY
from .parts import DayVolume, EstimatedPart, EstimationMethod, ManualWindow, ReplacedWindow
from .properties import PropertyAverage, flow_weighted_average
from .rate import RateGapMethod, RateVolume, integrate_rate
from .rate_curve import RateSamples
from .totalizer import TotalizerEvent, TotalizerVolume, totalizer_volume

__all__ = [
    "DEFAULT_SCORING",
    "SECONDS_PER_DAY",
    "CounterSpec",
    "DayQuality",
    "DayVolume",
    "EstimatedPart",
    "EstimationMethod",
    "Gap",
    "ManualWindow",
    "PropertyAverage",
    "QualityScore",
    "QualityScoring",
    "RateGapMethod",
    "RateSamples",
    "RateVolume",
    "ReplacedWindow",
    "TotalizerEvent",
    "TotalizerVolume",
    "flow_weighted_average",
    "integrate_rate",
    "totalizer_volume",
]
