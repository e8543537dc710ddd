"""Credentials: argon2 passwords, JWT access tokens, rotating refresh tokens, TOTP, API keys.

Access tokens are short-lived HS256 JWTs naming the user, its operator, its role and the
refresh-token family (session) they belong to; logging out revokes the family, and requests
check it (through a short principal cache). Refresh tokens are opaque random strings stored as
SHA-256 digests; each use rotates the token, and presenting a token that was already rotated
(a stolen copy, or the legitimate one after a thief used it) revokes the whole family.
TOTP is RFC 6238 over RFC 4226 HOTP, implemented with the standard library.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
import struct
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlencode, urlsplit

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from psycopg import AsyncConnection

from anh_reporter.api.errors import ApiError
from anh_reporter.api.passwords import MAX_PASSWORD_CHARS as MAX_PASSWORD_CHARS
from anh_reporter.api.passwords import MIN_PASSWORD_CHARS as MIN_PASSWORD_CHARS
from anh_reporter.api.passwords import check_password_policy as check_password_policy
from anh_reporter.config import Settings
from anh_reporter.errors import ConfigError
from anh_reporter.secretbox import reveal_setting

ISSUER = "anh-reporter"
AUDIENCE = "anh-reporter-api"
ALGORITHM = "HS256"
REFRESH_PREFIX = "rt_"
API_KEY_PREFIX = "anh_"

# ------------------------------------------------------------------------------------------
# The token signing key

MIN_SECRET_CHARS = 32
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "change_me", "secret", "jwt-secret", "please-change", "dev", "test"}
)
SECRET_FILE = "api_jwt_secret"  # noqa: S105 - a file name, not a secret


def jwt_secret(settings: Settings) -> str:
    """The token signing key: configured, or (development only) generated and kept on disk."""
    api = settings.api
    if api.jwt_secret is not None:
        value = reveal_setting(api.jwt_secret, "api.jwt_secret") or ""
        if value.strip().lower() in PLACEHOLDER_SECRETS or len(value) < MIN_SECRET_CHARS:
            if settings.environment == "production":
                raise ConfigError(
                    f"ANH_API__JWT_SECRET is a placeholder or shorter than {MIN_SECRET_CHARS} "
                    f"characters ({len(value)}); set a random secret, e.g. "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
                )
        else:
            return value
    if settings.environment == "production":
        raise ConfigError(
            "ANH_API__JWT_SECRET must be set when ANH_ENVIRONMENT=production (>= "
            f"{MIN_SECRET_CHARS} random characters)"
        )
    return _development_secret(settings.data_dir / SECRET_FILE)


def _development_secret(path: Path) -> str:
    try:
        existing = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        existing = ""
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the development JWT secret ({exc})") from None
    if len(existing) >= MIN_SECRET_CHARS:
        return existing
    value = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written with 0600 from the start: the key signs every access token.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(value + "\n")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write the development JWT secret ({exc})") from None
    return value


_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 defaults
# Verified when the email is unknown, so a login takes as long whether or not the user exists.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


# ------------------------------------------------------------------------------------------
# Passwords


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string) of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash costs the same time and fails."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def random_password() -> str:
    """A generated password (for the first admin): 20 URL-safe characters, ~120 bits."""
    return secrets.token_urlsafe(15)


# ------------------------------------------------------------------------------------------
# Access tokens


@dataclass(frozen=True)
class AccessClaims:
    """What an access token says."""

    user_id: int
    operator_id: int
    role: str
    family_id: uuid.UUID
    expires_at: dt.datetime


@dataclass(frozen=True)
class TokenPair:
    """What login and refresh answer."""

    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int


_VERIFIED_MAX = 20_000


class AccessTokens:
    """Signs and checks access tokens with one secret.

    A token whose signature was verified is remembered (until it expires) so that the next
    requests bearing it only check its expiry: verifying costs more than a cached request.
    """

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._secret = secret
        self.ttl_s = ttl_s
        self._verified: dict[str, AccessClaims] = {}

    def issue(
        self,
        *,
        user_id: int,
        operator_id: int,
        role: str,
        family_id: uuid.UUID,
        now: dt.datetime | None = None,
        ttl_s: int | None = None,
    ) -> str:
        """A signed token valid for ``ttl_s`` (default: the configured lifetime) from ``now``."""
        now = now or dt.datetime.now(dt.UTC)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(user_id),
            "op": operator_id,
            "role": role,
            "fam": str(family_id),
            "typ": "access",
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + (self.ttl_s if ttl_s is None else ttl_s),
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> AccessClaims:
        """Check signature, issuer, audience and expiry; 401 with a precise code otherwise."""
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at.timestamp() > time.time():
                return known
            del self._verified[token]
            raise unauthenticated("token_expired", "the access token has expired; refresh it")
        claims = self._decode(token)
        if len(self._verified) >= _VERIFIED_MAX:
            self._verified.clear()  # simpler than LRU; refilled at one verification per token
        self._verified[token] = claims
        return claims

    def _decode(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise unauthenticated(
                "token_expired", "the access token has expired; refresh it"
            ) from None
        except jwt.PyJWTError:
            raise unauthenticated("invalid_token", "the access token is not valid") from None
        try:
            if claims.get("typ") != "access":
                raise ValueError("not an access token")
            return AccessClaims(
                user_id=int(claims["sub"]),
                operator_id=int(claims["op"]),
                role=str(claims["role"]),
                family_id=uuid.UUID(str(claims["fam"])),
                expires_at=dt.datetime.fromtimestamp(int(claims["exp"]), dt.UTC),
            )
        except (KeyError, TypeError, ValueError):
            raise unauthenticated("invalid_token", "the access token is not valid") from None


def unauthenticated(code: str, message: str) -> ApiError:
    """401 with the ``WWW-Authenticate`` header clients expect."""
    return ApiError(401, code, message, headers={"WWW-Authenticate": "Bearer"})


# ------------------------------------------------------------------------------------------
# Refresh tokens (database)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class RefreshIssued:
    """A new refresh token and its row's identity."""

    token: str
    token_id: uuid.UUID
    family_id: uuid.UUID
    user_id: int


async def issue_refresh(
    conn: AsyncConnection[Any],
    *,
    user_id: int,
    ttl_s: int,
    family_id: uuid.UUID | None = None,
    client: str | None = None,
) -> RefreshIssued:
    """Store a new refresh token (a new family unless ``family_id`` is given)."""
    token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    token_id, family = uuid.uuid4(), family_id or uuid.uuid4()
    await conn.execute(
        "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at, client) "
        "VALUES (%s, %s, %s, %s, now() + make_interval(secs => %s), %s)",
        (token_id, family, user_id, _digest(token), ttl_s, client),
    )
    return RefreshIssued(token, token_id, family, user_id)


async def rotate_refresh(
    conn: AsyncConnection[Any], token: str, *, ttl_s: int, client: str | None = None
) -> RefreshIssued:
    """Spend a refresh token for a new one in the same family.

    Unknown, expired or revoked tokens answer 401. A token already rotated is a reuse: the
    family is revoked (committed even though the call fails) and the answer is 401
    ``refresh_token_reused``.
    """
    invalid = unauthenticated("invalid_refresh_token", "the refresh token is not valid")
    if not token.startswith(REFRESH_PREFIX):
        raise invalid
    async with conn.transaction():
        cur = await conn.execute(
            "SELECT r.id, r.family_id, r.user_id, r.expires_at <= now(), r.rotated_at, "
            "r.revoked_at, u.disabled FROM refresh_tokens r JOIN users u ON u.id = r.user_id "
            "WHERE r.token_hash = %s FOR UPDATE OF r",
            (_digest(token),),
        )
        row = await cur.fetchone()
        if row is None:
            raise invalid
        token_id, family_id, user_id, expired, rotated_at, revoked_at, disabled = row
        if revoked_at is not None or disabled:
            raise unauthenticated("refresh_token_revoked", "this session was ended; log in again")
        if rotated_at is not None:
            reused = True
        else:
            reused = False
            if expired:
                raise unauthenticated("refresh_token_expired", "the session expired; log in")
            new = await issue_refresh(
                conn, user_id=user_id, ttl_s=ttl_s, family_id=family_id, client=client
            )
            await conn.execute(
                "UPDATE refresh_tokens SET rotated_at = now(), replaced_by = %s WHERE id = %s",
                (new.token_id, token_id),
            )
    if reused:
        await revoke_family(conn, family_id, reason="reuse of a rotated refresh token")
        raise unauthenticated(
            "refresh_token_reused",
            "this refresh token was already used; the whole session is revoked, log in again",
        )
    return new


async def revoke_family(conn: AsyncConnection[Any], family_id: uuid.UUID, *, reason: str) -> int:
    """Revoke every token of a session; returns how many were still live."""
    async with conn.transaction():
        cur = await conn.execute(
            "UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = %s "
            "WHERE family_id = %s AND revoked_at IS NULL",
            (reason, family_id),
        )
    return max(cur.rowcount, 0)


async def revoke_user_sessions(
    conn: AsyncConnection[Any], user_id: int, *, reason: str, keep: uuid.UUID | None = None
) -> int:
    """Revoke every session of a user (but ``keep``); returns tokens revoked."""
    async with conn.transaction():
        cur = await conn.execute(
            "UPDATE refresh_tokens SET revoked_at = now(), revoked_reason = %s "
            "WHERE user_id = %s AND revoked_at IS NULL "
            "AND (%s::uuid IS NULL OR family_id <> %s::uuid)",
            (reason, user_id, keep, keep),
        )
    return max(cur.rowcount, 0)


async def family_of(conn: AsyncConnection[Any], token: str) -> tuple[uuid.UUID, int] | None:
    """The (family, user) a refresh token belongs to, whatever its state."""
    cur = await conn.execute(
        "SELECT family_id, user_id FROM refresh_tokens WHERE token_hash = %s", (_digest(token),)
    )
    row = await cur.fetchone()
    return (row[0], int(row[1])) if row else None


# ------------------------------------------------------------------------------------------
# Cookie sessions: the refresh token in an HttpOnly cookie, for the browser

SESSION_COOKIE = "anh_refresh"
SESSION_PATH = "/api/v1/auth/session"
"""The cookie goes only to the session routes (refresh, logout), never to the rest of the API."""
CSRF_HEADER = "X-ANH-CSRF"
"""Required on cookie-session calls: a header a cross-site form or image cannot send."""


def session_cookie(token: str, max_age_s: int) -> str:
    """The ``Set-Cookie`` value holding a refresh token (``""`` and 0 clear it)."""
    return (
        f"{SESSION_COOKIE}={token}; Max-Age={max_age_s}; Path={SESSION_PATH}; "
        "HttpOnly; Secure; SameSite=Strict"
    )


CLEAR_SESSION_COOKIE = session_cookie("", 0)


def check_csrf(csrf_header: str | None, origin: str | None, host: str | None) -> None:
    """403 unless a cookie-session call carries the CSRF header and, when the browser names
    its ``Origin``, that origin is the host the request was sent to.

    SameSite=Strict already keeps the cookie off cross-site requests; this holds too for a
    same-site attacker (another port, a sibling subdomain) and for older browsers.
    """
    if csrf_header != "1":
        raise ApiError(
            403,
            "csrf_required",
            f"header {CSRF_HEADER}: send '{CSRF_HEADER}: 1' with cookie-session calls "
            f"(got {'none' if csrf_header is None else repr(csrf_header[:20])})",
        )
    if origin is None:
        return
    try:
        origin_host = urlsplit(origin).netloc.lower() if "://" in origin else ""
    except ValueError:  # e.g. "http://[": not an origin at all
        origin_host = ""
    if not origin_host or origin_host != (host or "").lower():
        raise ApiError(
            403,
            "bad_origin",
            f"header Origin: {origin[:100]!r} is not this server ({host!r}); cookie sessions "
            "are for the UI this server serves",
        )


# ------------------------------------------------------------------------------------------
# TOTP (RFC 6238) over HOTP (RFC 4226)

TotpDigest = Literal["sha1", "sha256", "sha512"]
TOTP_STEP_S = 30
TOTP_DIGITS = 6


def hotp(key: bytes, counter: int, *, digits: int = TOTP_DIGITS, digest: str = "sha1") -> str:
    """RFC 4226 HOTP value of ``counter`` (dynamic truncation, ``digits`` decimal digits)."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    binary = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(binary % 10**digits).zfill(digits)


def totp_step(unix_time: float, *, step_s: int = TOTP_STEP_S, t0: int = 0) -> int:
    """The RFC 6238 time step T = floor((time - T0) / X)."""
    return int((unix_time - t0) // step_s)


def totp(
    key: bytes,
    unix_time: float,
    *,
    digits: int = TOTP_DIGITS,
    digest: TotpDigest = "sha1",
    step_s: int = TOTP_STEP_S,
) -> str:
    """RFC 6238 TOTP value at ``unix_time``."""
    return hotp(key, totp_step(unix_time, step_s=step_s), digits=digits, digest=digest)


def new_totp_secret() -> str:
    """A new 160-bit TOTP secret, base32 without padding (what authenticator apps take)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def totp_key(secret_b32: str) -> bytes:
    """The key bytes of a base32 secret (padding optional, case-insensitive)."""
    clean = secret_b32.strip().replace(" ", "").upper()
    return base64.b32decode(clean + "=" * (-len(clean) % 8))


def verify_totp(
    secret_b32: str,
    code: str,
    *,
    unix_time: float,
    last_step: int | None = None,
    window: int = 1,
) -> int | None:
    """The time step ``code`` is valid for (within +/- ``window`` steps), else None.

    A step at or before ``last_step`` is refused: a code cannot be replayed.
    """
    code = code.strip()
    # isdigit() alone takes other scripts' digits, which compare_digest cannot compare.
    if len(code) != TOTP_DIGITS or not (code.isascii() and code.isdigit()):
        return None
    key = totp_key(secret_b32)
    now_step = totp_step(unix_time)
    for step in range(now_step - window, now_step + window + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(hotp(key, step), code):
            return step
    return None


def otpauth_uri(secret_b32: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (usually from a QR code)."""
    label = quote(f"{issuer}:{account}")
    query = urlencode(
        {"secret": secret_b32, "issuer": issuer, "algorithm": "SHA1", "digits": 6, "period": 30}
    )
    return f"otpauth://totp/{label}?{query}"


# ------------------------------------------------------------------------------------------
# API keys


@dataclass(frozen=True)
class NewApiKey:
    """A key as shown once to its creator, and what is stored of it."""

    key: str
    prefix: str
    digest: bytes


def new_api_key() -> NewApiKey:
    """``anh_<12 hex prefix>_<secret>``: the prefix finds the row, the digest proves the key."""
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(key, prefix, _digest(key))


def parse_api_key(key: str) -> tuple[str, bytes] | None:
    """(prefix, digest) of a presented key, or None when it is not shaped like one."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, rest = key[len(API_KEY_PREFIX) :].partition("_")
    if not sep or len(prefix) != 12 or not rest:
        return None
    return prefix, _digest(key)


def same_digest(a: bytes, b: bytes) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a, b)
