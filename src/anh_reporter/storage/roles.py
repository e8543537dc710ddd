"""Database roles: the owner runs migrations, the application connects as a role that owns nothing.

:func:`apply_app_role` (``anh-reporter db roles --app-role NAME``) is run by the owner role (the
one that ran ``db migrate``) after every migration; it is idempotent:

* creates the role when missing (``LOGIN``, no password unless one is given) and refuses a role
  that is a superuser, may bypass row security, create roles or databases, is a member of the
  owner, or owns any object in this database;
* grants it ``USAGE`` on the schema, ``SELECT, INSERT, UPDATE, DELETE`` on the tables and
  ``USAGE, SELECT`` on the sequences (never ``TRUNCATE``, ``REFERENCES`` or ``TRIGGER``), and the
  same by default on what the owner creates later;
* makes the append-only logs (:data:`INSERT_ONLY`) insert-and-select only: together with their
  triggers, and because only an owner may ``ALTER TABLE ... DISABLE TRIGGER`` or ``TRUNCATE``,
  the application cannot erase or rewrite them;
* installs :data:`PARTITION_FUNCTION`, a ``SECURITY DEFINER`` function owned by the owner that
  makes one weekly telemetry partition (creating a partition needs the parent's owner), and lets
  only the application role execute it.

These are not Alembic migrations on purpose: roles are cluster-wide and named by the deployment,
and grants must be re-applied after each migration adds a table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from anh_reporter.errors import StorageError

INSERT_ONLY = ("audit_log", "config_log")
"""Tables the application may only read and append to."""

PARTITION_FUNCTION = "anh_make_telemetry_partition"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION {fn}(part_name text, lo timestamptz, hi timestamptz)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
BEGIN
    IF part_name !~ '^telemetry_p[0-9]{{8}}$' OR hi - lo <> interval '7 days' THEN
        RAISE EXCEPTION 'not a weekly telemetry partition: % [%, %)', part_name, lo, hi
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF telemetry '
                   'FOR VALUES FROM (%L) TO (%L)', part_name, lo, hi);
END $$
"""


@dataclass
class RoleReport:
    """What :func:`apply_app_role` did."""

    role: str
    created: bool = False
    tables: int = 0
    insert_only: list[str] = field(default_factory=list)
    partition_function: bool = False


def check_role_name(name: str) -> str:
    """``name`` when it is a plain lower-case identifier; :class:`StorageError` otherwise."""
    if not _ROLE_NAME.match(name):
        raise StorageError(
            f"role name {name!r}: use lower-case letters, digits and _ (at most 63 characters)"
        )
    return name


def apply_app_role(
    conn: psycopg.Connection[Any], role: str, *, password: str | None = None
) -> RoleReport:
    """Create (if missing) and grant the application role; see the module docstring."""
    check_role_name(role)
    ident = sql.Identifier(role)
    report = RoleReport(role)
    me = _scalar(conn, "SELECT current_user")
    if role == me:
        raise StorageError(f"the application role must not be the owner role {me!r}")
    with conn.transaction():
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(ident))
            report.created = True
        if password is not None:
            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(password)))
        _refuse_powerful(conn, role, me)
        schema = _scalar(conn, "SELECT current_schema()")
        sch = sql.Identifier(schema)
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sch, ident))
        conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM {}").format(sch, ident))
        conn.execute(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
                sch, ident
            )
        )
        conn.execute(
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(sch, ident)
        )
        conn.execute(
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {} "
                "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
            ).format(sch, ident)
        )
        conn.execute(
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}"
            ).format(sch, ident)
        )
        for table in INSERT_ONLY:
            if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,):
                continue
            t = sql.Identifier(table)
            conn.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(t, ident))
            conn.execute(sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(t, ident))
            report.insert_only.append(table)
        report.tables = int(
            _scalar(
                conn,
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
                "AND has_table_privilege(%s, c.oid, 'INSERT')",
                (role,),
            )
        )
        if conn.execute("SELECT to_regclass('telemetry')").fetchone() != (None,):
            fn = sql.Identifier(PARTITION_FUNCTION)
            conn.execute(sql.SQL(_FUNCTION_SQL).format(fn=fn, schema=sch))
            signature = sql.SQL("{}(text, timestamptz, timestamptz)").format(fn)
            conn.execute(sql.SQL("REVOKE ALL ON FUNCTION {} FROM PUBLIC").format(signature))
            conn.execute(sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(signature, ident))
            report.partition_function = True
    return report


def _refuse_powerful(conn: psycopg.Connection[Any], role: str, owner: str) -> None:
    row = conn.execute(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, "
        "pg_has_role(%s, %s, 'MEMBER') FROM pg_roles WHERE rolname = %s",
        (role, owner, role),
    ).fetchone()
    if row is None:  # pragma: no cover - created just above
        raise StorageError(f"role {role!r} does not exist")
    powers = [
        what
        for what, has in zip(
            ("SUPERUSER", "BYPASSRLS", "CREATEROLE", "CREATEDB", f"member of {owner}"),
            row,
            strict=True,
        )
        if has
    ]
    if powers:
        raise StorageError(
            f"role {role!r} is too powerful for the application ({', '.join(powers)}): "
            "use a plain role"
        )
    owned = owned_objects(conn, role)
    if owned:
        raise StorageError(
            f"role {role!r} owns {len(owned)} object(s) here ({', '.join(owned[:5])}): "
            f"REASSIGN OWNED BY {role} TO {owner} first"
        )


def owned_objects(conn: psycopg.Connection[Any], role: str) -> list[str]:
    """Tables, sequences, views, functions and schemas in this database owned by ``role``."""
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
        "WHERE r.rolname = %(r)s AND c.relpersistence <> 't' "
        "UNION ALL SELECT p.proname FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner "
        "WHERE r.rolname = %(r)s "
        "UNION ALL SELECT n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner "
        "WHERE r.rolname = %(r)s AND n.nspname NOT LIKE 'pg_temp%%' "
        "AND n.nspname NOT LIKE 'pg_toast_temp%%' ORDER BY 1",
        {"r": role},
    ).fetchall()
    return [str(r[0]) for r in rows]


@dataclass(frozen=True)
class Separation:
    """How the connected role stands: what an assessment needs to know."""

    role: str
    superuser: bool
    owns_tables: bool
    can_truncate_logs: bool
    can_alter_logs: bool

    @property
    def separated(self) -> bool:
        """True when the role can neither erase nor alter the append-only logs."""
        return not (
            self.superuser or self.owns_tables or self.can_truncate_logs or self.can_alter_logs
        )


def separation(conn: psycopg.Connection[Any]) -> Separation:
    """What the connected role may do to the logs (for ``security assess``)."""
    role = _scalar(conn, "SELECT current_user")
    superuser = bool(_scalar(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    owns = bool(owned_objects(conn, role))
    truncate = alter = False
    for table in INSERT_ONLY:
        if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,):
            continue
        row = conn.execute(
            "SELECT has_table_privilege(%(t)s, 'TRUNCATE') OR "
            "has_table_privilege(%(t)s, 'UPDATE') OR has_table_privilege(%(t)s, 'DELETE'), "
            "pg_has_role((SELECT relowner FROM pg_class WHERE oid = %(t)s::regclass), 'USAGE')",
            {"t": table},
        ).fetchone()
        truncate = truncate or bool(row and row[0])
        alter = alter or bool(row and row[1])
    return Separation(role, superuser, owns, truncate, alter)


def drop_role(conn: psycopg.Connection[Any], role: str) -> None:
    """Drop the role's grants in this database and, when it has none elsewhere, the role."""
    check_role_name(role)
    ident = sql.Identifier(role)
    with conn.transaction():
        conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(ident))


def _scalar(conn: psycopg.Connection[Any], query: str, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    if row is None:  # pragma: no cover - these queries always return a row
        raise StorageError(f"no row from {query!r}")
    return row[0]
