"""``anh-reporter security``: assess (IEC 62443-3-3), KEK and signing-key management."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
import psycopg
import typer
from rich.table import Table

from anh_reporter.config import get_settings
from anh_reporter.errors import ConfigError
from anh_reporter.reports import signing
from anh_reporter.secretbox import SecretBox, box_from, new_kek, reveal
from anh_reporter.security import assessment
from anh_reporter.security.facts import gather
from anh_reporter.storage.database import open_database
from anh_reporter.storage.users import TOTP_PURPOSE
from anh_reporter.terminal import console

app = typer.Typer(
    help="Security: IEC 62443-3-3 assessment, key-encryption key, signing keys.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("assess")
def assess(
    output: Annotated[
        Literal["table", "json", "markdown"], typer.Option("--format", help="Output format")
    ] = "table",
    opcua: Annotated[
        list[Path] | None, typer.Option("--opcua", help="An OPC UA tag map to assess (repeat)")
    ] = None,
    target: Annotated[
        int | None, typer.Option(min=1, max=4, help="SL-T (default ANH_SECURITY__TARGET_SL)")
    ] = None,
) -> None:
    """Assess the live configuration and database against IEC 62443-3-3 (SL per FR, gaps)."""
    settings = get_settings()
    with open_database(settings) as db, db.connect() as conn:
        facts = gather(settings, conn, opcua)
    result = assessment.assess(facts, target or settings.security.target_sl)
    if output == "json":
        sys.stdout.write(orjson.dumps(result.as_dict(), option=orjson.OPT_INDENT_2).decode())
        sys.stdout.write("\n")
        return
    if output == "markdown":
        sys.stdout.write(assessment.markdown(result))
        return
    print_assessment(result)


def print_assessment(result: assessment.Assessment) -> None:
    """The assessment as Rich tables."""
    frs = Table(title=f"IEC 62443-3-3, target SL {result.target}", show_edge=False)
    for col in ("FR", "", "achieved", "target"):
        frs.add_column(col)
    for f in result.frs:
        colour = "green" if f.meets else "red"
        frs.add_row(f.fr, f.name, f"[{colour}]SL {f.achieved}[/]", f"SL {f.target}")
    console.print(frs)
    checks = Table(show_edge=False)
    for col in ("check", "SR", "SL", "result", "detail", "what to change"):
        checks.add_column(col, overflow="fold")
    for c in result.checks:
        mark = (
            "[green]pass[/]"
            if c.passed
            else "[red]GAP[/]"
            if c.level <= result.target
            else ("[yellow]advisory[/]")
        )
        checks.add_row(c.title, c.sr, str(c.level), mark, c.detail, "" if c.passed else c.fix)
    console.print(checks)
    verdict = "meets" if result.meets_target else "does not meet"
    console.print(f"{verdict} SL-T {result.target}: {len(result.gaps)} gap(s)")


@app.command("new-kek")
def new_kek_command() -> None:
    """Print a new random key-encryption key (store it in a 0600 file: ANH_SECRETS__KEK_FILE)."""
    sys.stdout.write(new_kek() + "\n")


@app.command("seal")
def seal(
    name: Annotated[
        str, typer.Argument(help="The setting, e.g. api.jwt_secret, reports.delivery.bearer_token")
    ],
) -> None:
    """Seal a secret setting read from standard input; give the output as the setting's value."""
    box = _box()
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise ConfigError("nothing to seal on standard input")
    sys.stdout.write(box.seal(value.encode(), f"setting:{name}") + "\n")


@app.command("rotate-kek")
def rotate_kek() -> None:
    """Re-seal stored secrets (TOTP secrets, signing key) under ANH_SECRETS__KEK.

    Set the new key as ANH_SECRETS__KEK and the old one as ANH_SECRETS__KEK_PREVIOUS, run this,
    re-seal sealed settings with `security seal`, then drop KEK_PREVIOUS. Plain secrets are
    sealed too, so this also encrypts an installation that had no KEK.
    """
    settings = get_settings()
    box = _box()
    keys = signing.seal_key_file(settings.keys_dir, box)
    with open_database(settings) as db, db.connect() as conn:
        resealed = reseal_totp(conn, box)
    console.print(
        f"KEK {box.key_id}: {resealed} TOTP secret(s) re-sealed; signing key "
        f"{'re-sealed' if keys else 'absent'}"
    )


def reseal_totp(conn: psycopg.Connection[Any], box: SecretBox) -> int:
    """Seal every TOTP secret not yet under the current KEK; how many were re-sealed."""
    n = 0
    with conn.transaction():
        rows = conn.execute(
            "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL FOR UPDATE"
        ).fetchall()
        for user_id, stored in rows:
            if box.is_current(stored):
                continue
            plain = reveal(stored, TOTP_PURPOSE, box)
            conn.execute(
                "UPDATE users SET totp_secret = %s WHERE id = %s",
                (box.seal(plain.encode(), TOTP_PURPOSE), user_id),
            )
            n += 1
    return n


@app.command("rotate-signing-key")
def rotate_signing_key() -> None:
    """Retire the report signing key and make a new one; old reports still verify."""
    settings = get_settings()
    old, new = signing.rotate_key(settings.keys_dir, box_from(settings.secrets))
    path = signing.write_keyset(settings.keys_dir)
    console.print(
        f"retired {old[:16] + '…' if old else 'nothing'}; new key {new.key_id[:16]}…; "
        f"public key set: {path}"
    )


def _box() -> SecretBox:
    box = box_from(get_settings().secrets)
    if box is None:
        raise ConfigError("set ANH_SECRETS__KEK or ANH_SECRETS__KEK_FILE (see `security new-kek`)")
    return box
