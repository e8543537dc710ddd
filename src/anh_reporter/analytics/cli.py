"""``anh-reporter analytics``: train and score anomaly models, SPC on a series, forecasts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import numpy as np
import psycopg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from anh_reporter.analytics import history, service, store
from anh_reporter.analytics.records import Severity
from anh_reporter.analytics.service import AnalyticsError
from anh_reporter.analytics.spc.batch import evaluate_against_prior
from anh_reporter.analytics.spc.limits import DEFAULT_MIN_BASELINE, process_capability
from anh_reporter.analytics.spc.rules import (
    ALL_RULES,
    NELSON_RULES,
    RULE_SPECS,
    WESTERN_ELECTRIC_RULES,
)
from anh_reporter.config import get_settings
from anh_reporter.domain.quality import good_mask
from anh_reporter.domain.timeutil import US_PER_DAY, US_PER_HOUR, US_PER_SECOND, from_us, to_us
from anh_reporter.domain.variables import VARIABLES, VariableKind
from anh_reporter.storage.database import open_database
from anh_reporter.terminal import table as terminal_table

app = typer.Typer(
    help="Analytics: anomaly models, SPC, production forecasts.", no_args_is_help=True
)
console = Console()

FieldOpt = Annotated[str | None, typer.Option("--field", help="Field code (default: all)")]
PmoOpt = Annotated[str | None, typer.Option("--pmo", help="PMO code (default: all)")]
WindowOpt = Annotated[
    int,
    typer.Option(
        "--window-minutes",
        min=1,
        max=1440,
        help="Feature window; 60 reads the hourly rollups, anything else raw samples",
    ),
]


@contextmanager
def _connection() -> Iterator[psycopg.Connection[Any]]:
    with open_database(get_settings()) as db, db.connect() as conn:
        yield conn


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
    )


def _aware(when: dt.datetime | None) -> dt.datetime | None:
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=dt.UTC)


@app.command()
def train(
    field: FieldOpt = None,
    pmo: PmoOpt = None,
    days: Annotated[float, typer.Option(min=1, max=365, help="Days of history to learn")] = 14,
    until: Annotated[
        dt.datetime | None, typer.Option(help="End of the training period (UTC; default now)")
    ] = None,
    window_minutes: WindowOpt = 60,
    contamination: Annotated[
        float, typer.Option(min=0.0001, max=0.2, help="Share of training windows called INFO")
    ] = 0.005,
) -> None:
    """Train an IsolationForest per PMO on its feature windows and store it as a new version."""
    window_us = window_minutes * 60 * US_PER_SECOND
    end_us = service.window_end(until, window_us)
    start_us = end_us - int(days * US_PER_DAY)
    with _connection() as conn:
        groups = service.pmo_groups(conn, field_code=field, pmo_code=pmo)
        with _progress() as progress:
            task = progress.add_task("training", total=len(groups))
            results = service.train_models(
                conn,
                groups=groups,
                end_us=end_us,
                days=days,
                window_us=window_us,
                contamination=contamination,
                on_progress=lambda: progress.advance(task),
            )
    table = Table(
        title=f"Models trained on {from_us(start_us):%Y-%m-%d %H:%M} .. "
        f"{from_us(end_us):%Y-%m-%d %H:%M} UTC",
        show_edge=False,
    )
    for col in ("PMO", "version", "windows", "features", "INFO >", "WARNING >", "CRITICAL >"):
        table.add_column(col, justify="left" if col == "PMO" else "right")
    for result in results:
        if result.model is None:
            continue
        model, t = result.model, result.model.thresholds
        table.add_row(
            result.pmo_code,
            str(model.version),
            f"{int(model.metrics['rows']):,}",
            str(len(model.features)),
            f"{t.info:.3f}",
            f"{t.warning:.3f}",
            f"{t.critical:.3f}",
        )
    console.print(table)
    problems = [f"{r.pmo_code}: {r.problem}" for r in results if r.model is None]
    for problem in problems:
        console.print(f"[yellow]not trained[/] {problem}")
    if problems and len(problems) == len(results):
        raise AnalyticsError("no model was trained: " + problems[0])


@app.command()
def score(
    field: FieldOpt = None,
    pmo: PmoOpt = None,
    hours: Annotated[float, typer.Option(min=1, max=24 * 90, help="Hours to score")] = 24,
    until: Annotated[dt.datetime | None, typer.Option(help="End (UTC; default now)")] = None,
    alert: Annotated[bool, typer.Option(help="Send alerts for new anomalies")] = False,
) -> None:
    """Score recent windows with each PMO's newest model; store the anomalies (de-duplicated)."""
    with _connection() as conn:
        groups = service.pmo_groups(conn, field_code=field, pmo_code=pmo)
        with _progress() as progress:
            task = progress.add_task("scoring", total=len(groups))
            results = service.score_models(
                conn,
                groups=groups,
                until=until,
                hours=hours,
                on_progress=lambda: progress.advance(task),
            )
    table = terminal_table(
        ("PMO", "from", "to", "severity", "score", "main feature", "model", "row"),
        title="Anomalies found by the models",
    )
    for result in results:
        for a, saved in zip(result.anomalies, result.saved, strict=True):
            table.add_row(
                result.pmo_code,
                f"{from_us(a.window_start_us):%m-%d %H:%M}",
                f"{from_us(a.window_end_us):%m-%d %H:%M}",
                a.severity.value,
                f"{a.score:.3f}",
                _main_features(a.explanation, 1),
                f"v{a.model_version}",
                "new" if saved.created else "known",
            )
    console.print(table)
    skipped = [r.pmo_code for r in results if r.model_version is None]
    if skipped:
        console.print(
            f"[yellow]no model yet[/] for {', '.join(skipped)}: run `anh-reporter analytics train`"
        )
    new = [a for r in results for a in r.new]
    console.print(f"{sum(len(r.anomalies) for r in results)} anomalies, {len(new)} new")
    if alert and new:
        _send_alerts(new)


def _main_features(explanation: dict[str, Any], count: int) -> str:
    """The features that made a model anomaly: beyond the training range first."""
    names: list[str] = []
    for key in ("beyond_training", "contributions"):
        for item in explanation.get(key, []):
            if item["feature"] not in names:
                names.append(item["feature"])
    return ", ".join(names[:count]) or "-"


def _send_alerts(anomalies: Sequence[Any]) -> None:
    from anh_reporter.analytics.alerts import AlertDispatcher, channels_from_settings

    settings = get_settings().alerts
    channels = channels_from_settings(settings)
    if not channels:
        console.print("[yellow]no alert channel configured[/] (alerts.webhook_url, smtp_host)")
        return
    dispatcher = AlertDispatcher(
        channels,
        min_severity=Severity(settings.min_severity),
        burst=settings.burst,
        per_hour=settings.per_hour,
    )
    report = dispatcher.publish(anomalies)
    console.print(
        f"alerts: {report.sent} sent, {report.rate_limited} rate-limited, {report.failed} failed"
    )
    for error in report.errors:
        console.print(f"[red]{error}[/]")


RULE_SETS = {
    "all": ALL_RULES,
    "we": WESTERN_ELECTRIC_RULES,
    "nelson": NELSON_RULES,
}


@app.command("spc")
def spc_command(
    series_code: Annotated[str, typer.Argument(help="Series code, e.g. CAMPO.PMO.oil_rate")],
    hours: Annotated[float, typer.Option(min=0.01, help="Hours of points to judge")] = 6,
    baseline_hours: Annotated[
        float, typer.Option(min=0.01, help="Hours before them that set the limits")
    ] = 24,
    until: Annotated[dt.datetime | None, typer.Option(help="End (UTC; default now)")] = None,
    rules: Annotated[str, typer.Option(help="Rule set: all, we or nelson")] = "nelson",
    lsl: Annotated[float | None, typer.Option(help="Lower specification limit")] = None,
    usl: Annotated[float | None, typer.Option(help="Upper specification limit")] = None,
    show: Annotated[int, typer.Option(min=0, help="Violations to list")] = 20,
) -> None:
    """Judge a series' recent points against limits frozen from the hours before them."""
    if rules not in RULE_SETS:
        raise AnalyticsError(f"--rules is {rules!r}; expected one of {', '.join(RULE_SETS)}")
    end_us = to_us(_aware(until) or dt.datetime.now(dt.UTC))
    start_us = end_us - int(hours * US_PER_HOUR)
    base_us = start_us - int(baseline_hours * US_PER_HOUR)
    with _connection() as conn:
        row = conn.execute("SELECT id FROM series WHERE code = %s", (series_code,)).fetchone()
        if row is None:
            raise AnalyticsError(f"series {series_code!r} does not exist")
        t, v, q = history.read_samples(conn, series_id=row[0], start_us=base_us, end_us=end_us)
    keep = good_mask(q) & np.isfinite(v)
    t, v = t[keep], v[keep]
    baseline_size = int(np.searchsorted(t, start_us))
    if baseline_size < DEFAULT_MIN_BASELINE or baseline_size == t.size:
        raise AnalyticsError(
            f"{series_code}: {baseline_size} good points in the {baseline_hours:g} h baseline "
            f"and {t.size - baseline_size} to judge; need >= {DEFAULT_MIN_BASELINE} and >= 1"
        )
    try:
        limits, violations = evaluate_against_prior(
            v, baseline_size=baseline_size, rules=RULE_SETS[rules]
        )
    except ValueError as exc:
        raise AnalyticsError(f"{series_code}: {exc}") from None
    console.print(
        f"[bold]{series_code}[/]: centre {limits.center:.6g}, sigma {limits.sigma:.4g} "
        f"(moving range, {limits.baseline_points} baseline points), "
        f"LCL {limits.lcl:.6g}, UCL {limits.ucl:.6g}; {t.size - baseline_size} points judged"
    )
    counts: dict[str, int] = defaultdict(int)
    for violation in violations:
        counts[violation.rule.value] += 1
    table = Table(title="Violations per rule", show_edge=False)
    table.add_column("rule")
    table.add_column("points fired", justify="right")
    table.add_column("meaning")
    for rule in RULE_SETS[rules]:
        table.add_row(rule.value, str(counts.get(rule.value, 0)), RULE_SPECS[rule].description)
    console.print(table)
    if show and violations:
        recent = Table(title=f"Last {min(show, len(violations))} violations", show_edge=False)
        for col in ("time", "rule", "value", "side"):
            recent.add_column(col)
        for violation in violations[-show:]:
            recent.add_row(
                f"{from_us(int(t[violation.last])):%Y-%m-%d %H:%M:%S}",
                violation.rule.value,
                f"{v[violation.last]:.6g}",
                violation.side or "-",
            )
        console.print(recent)
    if lsl is not None or usl is not None:
        try:
            cap = process_capability(center=limits.center, sigma=limits.sigma, lsl=lsl, usl=usl)
        except ValueError as exc:
            raise AnalyticsError(f"capability: {exc}") from None
        cp = "-" if cap.cp is None else f"{cap.cp:.3f}"
        console.print(f"capability: Cp {cp}, Cpk {cap.cpk:.3f}")


@app.command()
def forecast(
    field: FieldOpt = None,
    pmo: PmoOpt = None,
    days: Annotated[int, typer.Option(min=8, max=3650, help="Days of history to fit")] = 90,
    horizon: Annotated[int, typer.Option(min=1, max=90, help="Days to forecast")] = 7,
    holdout: Annotated[int, typer.Option(min=1, max=60, help="Days held out for the backtest")] = 7,
) -> None:
    """Arps decline forecast per PMO and per field, with its backtest error (MAPE)."""
    from anh_reporter.analytics import forecast as fc

    until = dt.datetime.now(dt.UTC)
    since = until - dt.timedelta(days=days)
    per_field: dict[tuple[str, str], list[fc.Forecast]] = defaultdict(list)
    table = Table(title=f"{horizon}-day production forecast (Arps decline)", show_edge=False)
    for col in (
        "field / PMO",
        "rate",
        "fit",
        "qi",
        "Di /yr",
        "b",
        "days",
        "next day",
        f"{horizon} d total",
        "backtest MAPE",
    ):
        table.add_column(col, justify="left" if col in ("field / PMO", "rate", "fit") else "right")
    problems = []
    with _connection() as conn:
        groups = service.pmo_groups(conn, field_code=field, pmo_code=pmo)
        for series in groups.values():
            rates = [s for s in series if VARIABLES[s.info.variable].kind is VariableKind.RATE]
            rate = next((s for s in rates if VARIABLES[s.info.variable].fluid == s.pmo_kind), None)
            if rate is None:
                problems.append(f"{series[0].pmo_code}: no {series[0].pmo_kind} rate series")
                continue
            daily = history.daily_rates(
                conn, series_id=rate.info.series_id, since=since, until=until
            )
            try:
                result = fc.forecast(
                    daily.day, daily.rate, horizon_days=horizon, holdout_days=holdout
                )
            except ValueError as exc:
                problems.append(f"{rate.code}: {exc}")
                continue
            per_field[(rate.field_code, rate.info.variable)].append(result)
            table.add_row(*_forecast_row(rate.pmo_code, rate.info.variable, result))
    for (field_code, variable), results in per_field.items():
        try:
            total = fc.field_forecast(results)
        except ValueError as exc:
            problems.append(f"{field_code} {variable}: {exc}")
            continue
        table.add_row(*_forecast_row(f"[bold]{field_code}[/]", variable, total))
    console.print(table)
    for problem in problems:
        console.print(f"[yellow]no forecast[/] {problem}")
    if not per_field:
        raise AnalyticsError("no forecast could be made: " + (problems[0] if problems else "?"))


def _forecast_row(name: str, variable: str, result: Any) -> tuple[str, ...]:
    fit = result.fit
    mape = result.backtest.mape_pct if result.backtest is not None else float("nan")
    return (
        name,
        variable,
        fit.kind.value if fit else "sum of PMOs",
        f"{fit.qi:,.1f}" if fit else "",
        f"{fit.di_per_year:.3f}" if fit else "",
        f"{fit.b:.2f}" if fit else "",
        str(fit.days) if fit else "",
        f"{result.rate[0]:,.1f}",
        f"{result.total:,.0f}",
        "-" if mape != mape else f"{mape:.2f} %",
    )


@app.command("list")
def list_command(
    field: FieldOpt = None,
    status: Annotated[str | None, typer.Option(help="open, acknowledged or closed")] = None,
    severity: Annotated[str, typer.Option(help="Lowest severity shown")] = "INFO",
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
) -> None:
    """The newest anomalies."""
    try:
        wanted_status = store.AnomalyStatus(status) if status else None
        wanted_severity = Severity(severity.upper())
    except ValueError as exc:
        raise AnalyticsError(str(exc)) from None
    with _connection() as conn:
        field_ids = None
        if field:
            row = conn.execute("SELECT id FROM fields WHERE code = %s", (field,)).fetchone()
            if row is None:
                raise AnalyticsError(f"field {field!r} does not exist")
            field_ids = [row[0]]
        found = store.list_anomalies(
            conn,
            field_ids=field_ids,
            status=wanted_status,
            min_severity=wanted_severity,
            limit=limit,
        )
    table = terminal_table(("id", "from", "to", "severity", "detector", "on", "status", "why"))
    for s in found:
        a = s.anomaly
        on = f"series {a.series_id}" if a.series_id is not None else f"PMO {a.pmo_id}"
        why = a.explanation.get("why") or _main_features(a.explanation, 2)
        table.add_row(
            str(s.id),
            f"{from_us(a.window_start_us):%m-%d %H:%M:%S}",
            f"{from_us(a.window_end_us):%m-%d %H:%M:%S}",
            a.severity.value,
            a.detector,
            on,
            s.status.value,
            why,
        )
    console.print(table)
