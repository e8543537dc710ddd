"""Users, roles, tokens and API keys (issue: API).

Every user and API key belongs to one operator and sees only that operator's data; a user sees
all of the operator's fields (``all_fields``) or only those listed in ``user_fields``. Refresh
tokens are opaque and stored as SHA-256 digests; each login starts a family, each refresh
rotates within it, and reusing a rotated token revokes the family. API keys are stored as a
lookup prefix and a SHA-256 digest of the whole key. Rate-limit state is not kept here.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE users (
    id              serial PRIMARY KEY,
    email           text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    password_hash   text NOT NULL,
    operator_id     int NOT NULL REFERENCES operators (id),
    role            text NOT NULL
                    CHECK (role IN ('admin', 'engineer', 'operator', 'viewer', 'auditor')),
    all_fields      boolean NOT NULL DEFAULT false,
    totp_secret     text,
    totp_enabled    boolean NOT NULL DEFAULT false,
    totp_last_step  bigint,
    disabled        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz,
    CHECK (NOT totp_enabled OR totp_secret IS NOT NULL)
);
CREATE UNIQUE INDEX users_email_idx ON users (email);
CREATE INDEX users_operator_idx ON users (operator_id);
COMMENT ON COLUMN users.password_hash IS 'argon2id, PHC string format';
COMMENT ON COLUMN users.totp_last_step IS 'RFC 6238 time step of the last accepted code (replay)';

CREATE TABLE user_fields (
    user_id   int NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    field_id  int NOT NULL REFERENCES fields (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, field_id)
);

CREATE TABLE refresh_tokens (
    id              uuid PRIMARY KEY,
    family_id       uuid NOT NULL,
    user_id         int NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash      bytea NOT NULL UNIQUE,
    issued_at       timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    rotated_at      timestamptz,
    replaced_by     uuid,
    revoked_at      timestamptz,
    revoked_reason  text,
    client          text
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE api_keys (
    id           serial PRIMARY KEY,
    operator_id  int NOT NULL REFERENCES operators (id),
    name         text NOT NULL,
    prefix       text NOT NULL UNIQUE,
    key_hash     bytea NOT NULL,
    scopes       text[] NOT NULL,
    field_ids    int[],
    created_by   int REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    UNIQUE (operator_id, name)
);
COMMENT ON COLUMN api_keys.field_ids IS 'NULL: every field of the operator';

ALTER TABLE audit_log ADD COLUMN operator_id int;
CREATE INDEX audit_log_operator_idx ON audit_log (operator_id, at);
"""

DOWNGRADE = """
DROP INDEX IF EXISTS audit_log_operator_idx;
ALTER TABLE audit_log DROP COLUMN IF EXISTS operator_id;
DROP TABLE IF EXISTS api_keys, refresh_tokens, user_fields, users;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
