"""Reports, their versions (hash chain) and deliveries (issue: production and IDP report).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE signing_keys (
    key_id      text PRIMARY KEY,
    algorithm   text NOT NULL DEFAULT 'Ed25519',
    public_key  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON COLUMN signing_keys.key_id IS 'sha256 (hex) of the raw 32-byte public key';

CREATE TABLE reports (
    id               bigserial PRIMARY KEY,
    field_id         int NOT NULL REFERENCES fields (id),
    contract_day     date NOT NULL,
    report_type      char(1) NOT NULL CHECK (report_type IN ('A', 'B')),
    profile          text NOT NULL,
    current_version  int,
    needs_amendment  boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (field_id, contract_day)
);

CREATE TABLE report_versions (
    id                   bigserial PRIMARY KEY,
    report_id            bigint NOT NULL REFERENCES reports (id),
    version              int NOT NULL CHECK (version >= 1),
    amends_version_id    bigint REFERENCES report_versions (id),
    reason               text,
    status               text NOT NULL CHECK (status IN (
                             'draft', 'validated', 'signed', 'submitted', 'accepted',
                             'rejected')),
    status_message       text,
    findings             jsonb NOT NULL DEFAULT '[]'::jsonb,
    canonical            bytea,
    path                 text,
    sha256               text,
    signature            text,
    key_id               text REFERENCES signing_keys (key_id),
    chain_seq            bigint UNIQUE,
    prev_hash            text,
    chain_hash           text UNIQUE,
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    signed_at            timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (report_id, version),
    CHECK ((chain_seq IS NULL) = (chain_hash IS NULL)),
    CHECK (chain_seq IS NULL OR (canonical IS NOT NULL AND sha256 IS NOT NULL
                                 AND signature IS NOT NULL AND prev_hash IS NOT NULL)),
    CHECK (version = 1 OR amends_version_id IS NOT NULL),
    CHECK (amends_version_id IS NULL OR reason IS NOT NULL)
);
COMMENT ON TABLE report_versions IS
    'Every version of every report. Signed versions form one hash chain ordered by chain_seq: '
    'chain_hash = sha256(prev_hash || canonical header of the version), see reports/chain.py.';

-- A signed version is a record (API MPMS 21.1): its content never changes and it is never
-- deleted; only its delivery status moves on. Drafts may be replaced.
CREATE FUNCTION report_versions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.chain_seq IS NULL THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'signed report version % cannot be deleted', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (to_jsonb(NEW) - 'status' - 'status_message' - 'updated_at')
       IS DISTINCT FROM (to_jsonb(OLD) - 'status' - 'status_message' - 'updated_at') THEN
        RAISE EXCEPTION 'signed report version % cannot be changed (only its status)', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER report_versions_immutable BEFORE UPDATE OR DELETE ON report_versions
    FOR EACH ROW EXECUTE FUNCTION report_versions_guard();

CREATE TABLE deliveries (
    id               bigserial PRIMARY KEY,
    version_id       bigint NOT NULL REFERENCES report_versions (id),
    channel          text NOT NULL,
    target           text NOT NULL,
    idempotency_key  text NOT NULL,
    status           text NOT NULL CHECK (status IN (
                         'pending', 'delivered', 'accepted', 'rejected', 'failed')),
    attempts         int NOT NULL DEFAULT 0,
    http_status      int,
    receipt          jsonb,
    message          text,
    created_by       text NOT NULL,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX deliveries_version_idx ON deliveries (version_id);
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE IF EXISTS deliveries, report_versions, reports, signing_keys CASCADE;
        DROP FUNCTION IF EXISTS report_versions_guard();
        """
    )
