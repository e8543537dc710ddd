"""Read systemd unit files (repeated keys kept in order) and the CLI's command names."""

from __future__ import annotations

from pathlib import Path


def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """``{section: {key: [values in order]}}``; comments and blank lines dropped."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}: {line!r} before any section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: {line!r} is not key=value"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def cli_commands() -> set[str]:
    """Every command path of ``anh-reporter``: ``serve``, ``db migrate``, ..."""
    from anh_reporter.cli import COMMANDS, load_command

    found: set[str] = set()

    def walk(command: object, prefix: str) -> None:
        children = getattr(command, "commands", None)
        if not children:
            found.add(prefix.strip())
            return
        for name, child in children.items():
            walk(child, f"{prefix} {name}")

    for name in COMMANDS:
        walk(load_command(name), name)
    return found
