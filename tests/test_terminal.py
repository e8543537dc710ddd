"""The CLI's listing tables show every value whole, however narrow the terminal."""

from __future__ import annotations

from rich.console import Console

from anh_reporter.terminal import table


def _rendered(width: int) -> str:
    out = table(("id", "reason / message", "value"), title="entries", right=("value",))
    out.add_row("17", "meter proved again after the LACT strainer was cleaned", "1234567.89")
    console = Console(width=width, record=True, color_system=None)
    console.print(out)
    return console.export_text()


def test_a_narrow_terminal_folds_values_instead_of_cutting_them() -> None:
    text = _rendered(30)
    assert "…" not in text
    cells = [line.split("│")[1].strip() for line in text.splitlines() if "│" in line]
    assert " ".join(cells) == "meter proved again after the LACT strainer was cleaned"
    assert "1234567.89" in text


def test_a_wide_terminal_keeps_each_row_on_one_line() -> None:
    text = _rendered(120)
    row = next(line for line in text.splitlines() if line.strip().startswith("17"))
    assert "strainer was cleaned" in row
    assert row.rstrip().endswith("1234567.89")
