"""Statistical process control (SPC) for one telemetry series: limits, run rules, capability.

Pure functions over numpy arrays plus one small online state object; no I/O.

Limits come from a baseline that excludes the points being judged
    :func:`control_limits` freezes a centre line and a sigma from a *baseline* window, and
    :func:`evaluate` judges *other* points against them. Judging a point against limits computed
    from a window that contains it hides the very shift the rules look for: the point drags the
    centre line and inflates sigma (a single 16 after twenty points alternating 9/11 is beyond
    3 sigma of the prior baseline, but inside the limits of a window that includes it).
    :func:`evaluate_against_prior` and :meth:`SpcMonitor.refreeze` keep the two apart.

Sigma
    ``sigma_method="moving_range"`` (the default) is the individuals-chart (I-MR) convention:
    the mean absolute difference between consecutive points divided by d2 = 1.128. It measures
    short-term, point-to-point variation, so a drift or a shift inside the baseline inflates it
    much less than the standard deviation. ``sigma_method="std"`` is the sample standard
    deviation (ddof = 1) of the baseline. Moving ranges are only taken between two consecutive
    *finite* points.

Zones
    With c the centre line and s sigma, a point is "beyond k sigma" above when x > c + k*s and
    below when x < c - k*s: strict, so a point exactly on a limit is not beyond it. "Within
    1 sigma" is c - s <= x <= c + s, the complement of "beyond 1 sigma". "Above"/"below the
    centre line" are x > c and x < c; a point exactly on the centre line is on neither side and
    breaks a same-side run. Batch and online compare the point with the same precomputed float
    thresholds, which is why they agree exactly.

When a rule fires
    A rule is judged at every point, looking back over the points that end at it; it fires at a
    point when the pattern ending there is complete, and keeps firing at each following point
    while the pattern holds (twelve points above the centre line fire NELSON2 at the 9th, 10th,
    11th and 12th). This is what an online monitor does with each new point, and the batch
    evaluation reports exactly the same (rule, point) pairs. For the "k out of n" rules (WE2, WE3,
    NELSON5, NELSON6) the judged point must itself be one of the k points beyond the zone, on the
    same side: every alert carries new evidence, and a pattern already reported is not reported
    again when a quiet point follows it. Near the start of a series (or of a segment, below)
    those windows are shorter than n: two points beyond 2 sigma as the first two points of a
    segment fire WE2.

Missing points (NaN and +/-inf)
    A non-finite value is not judged, fires nothing, and breaks every pattern: the series is cut
    into segments at non-finite points and no run, trend, alternation or "k out of n" window
    spans two segments. Ingest quarantines non-finite readings before they get here; treating
    +/-inf as missing rather than "beyond 3 sigma" keeps one rule for every gap.

Rules (Western Electric 1956 handbook; Nelson, J. Quality Technology 16(4), 1984)
    ======== ============================================================================
    WE1      1 point beyond 3 sigma
    WE2      2 of 3 consecutive points beyond 2 sigma, same side
    WE3      4 of 5 consecutive points beyond 1 sigma, same side
    WE4      8 consecutive points on the same side of the centre line
    NELSON1  1 point beyond 3 sigma
    NELSON2  9 consecutive points on the same side of the centre line
    NELSON3  6 consecutive points steadily increasing or decreasing (5 strict steps)
    NELSON4  14 consecutive points alternating up and down (13 steps, signs alternating)
    NELSON5  2 of 3 consecutive points beyond 2 sigma, same side
    NELSON6  4 of 5 consecutive points beyond 1 sigma, same side
    NELSON7  15 consecutive points within 1 sigma (either side)
    NELSON8  8 consecutive points beyond 1 sigma, either side (none within 1 sigma)
    ======== ============================================================================

Where sources differ
    * Same side run: the Western Electric handbook uses 8 points (WE4), Nelson and Minitab 9
      (NELSON2). Both are offered, under their own ids.
    * Trend: some texts count six *increases* (seven points); Nelson and Minitab count six
      points (five increases). NELSON3 is six points. Equal consecutive values break a trend and
      an alternation (neither up nor down).
    * WE1/NELSON1, WE2/NELSON5 and WE3/NELSON6 are the same tests; both ids exist so a site can
      pick one rule set. :data:`ALL_RULES` evaluates both sets; pass :data:`NELSON_RULES` or
      :data:`WESTERN_ELECTRIC_RULES` to get one.

The package, one concern a module:

    :mod:`.limits`   control limits from a baseline, process capability (Cp, Cpk)
    :mod:`.rules`    the run rules as data, rule sets, and what a firing (violation) is
    :mod:`.batch`    vectorised evaluation of a whole series against frozen limits
    :mod:`.monitor`  the online monitor: O(1) per new point, equal to the batch evaluation
    :mod:`.chart`    a control chart of hourly averages judged against a prior baseline

Import from the module that defines a name; this package re-exports nothing.
"""
