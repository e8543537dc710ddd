"""The command line: a lazy router whose help lines match the commands it imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from anh_reporter import cli

HEAVY = ("fastapi", "uvicorn", "alembic", "sklearn", "asyncua", "pymodbus", "typer", "numpy")


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_each_command_loads_and_its_help_line_is_its_own(name: str) -> None:
    command = cli.load_command(name)
    _, listed = cli.COMMANDS[name]
    own = (command.help or "").strip().splitlines()[0]
    assert listed == own, f"{name}: COMMANDS says {listed!r}, the command says {own!r}"


def test_help_imports_none_of_the_heavy_libraries() -> None:
    code = (
        "import sys\n"
        "from anh_reporter import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Commands:" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_an_unknown_command_is_one_line_with_a_suggestion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["sitee"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did you mean 'site'" in err


def test_a_known_error_is_one_line_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["ingest", "/nonexistent/readings.csv"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "no such file" in err and "Traceback" not in err
