"""The password policy, after NIST SP 800-63B section 5.1.1.2: length, not composition.

A password has 12 to 256 characters, any of them (spaces and every script included); it must
not be a known common or breached password (``common_passwords.txt``, bundled with the
package, compared after lower-casing and dropping digits and separators around a word), a
keyboard or digit run, one character or a short unit repeated, or the account's own email.
No rules about upper case, digits or symbols: they make passwords harder to remember, not to
guess. Every refusal is 422 ``weak_password`` with the reason.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib import resources

from anh_reporter.api.errors import ApiError

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 256
_RUNS = (
    "0123456789012345678901234567890",
    "qwertyuiopasdfghjklzxcvbnm",
    "abcdefghijklmnopqrstuvwxyz",
)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The bundled list, normalised (see :func:`_normalise`)."""
    text = resources.files("anh_reporter.api").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


def _is_run(core: str) -> bool:
    """A stretch of a keyboard row, the alphabet or the digits, forwards or backwards."""
    return len(core) >= 6 and any(core in run or core[::-1] in run for run in _RUNS)


def _is_repetition(text: str) -> bool:
    """The same short unit (up to a third of the length) over and over."""
    n = len(text)
    return any(n % k == 0 and text == text[:k] * (n // k) for k in range(1, n // 3 + 1))


def weakness(password: str, *, email: str | None = None) -> str | None:
    """Why ``password`` is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"password has {len(password)} characters; at least {MIN_PASSWORD_CHARS} are needed"
    if len(password) > MAX_PASSWORD_CHARS:
        return f"password has {len(password)} characters; at most {MAX_PASSWORD_CHARS} are accepted"
    if not password.strip():
        return "password is only spaces; use a passphrase of words"
    core = _normalise(password)
    if _is_repetition(password) or (core and _is_repetition(core)):
        return "password repeats one character or a short sequence; use a passphrase of words"
    stem = core.strip("0123456789")
    known = common_passwords()
    if core in known or (stem and stem in known) or _is_run(core) or _is_run(stem):
        return "password is a commonly used password (from a list of known breached ones)"
    n = len(stem)
    if any(n % k == 0 and stem == stem[:k] * (n // k) and stem[:k] in known for k in range(3, n)):
        return "password is a commonly used password repeated"
    if email:
        local = _normalise(email.split("@")[0])
        if core in (_normalise(email), local) or (len(local) >= 4 and stem == local):
            return "password is the account's email; choose something else"
    return None


def check_password_policy(password: str, *, email: str | None = None) -> None:
    """422 ``weak_password`` naming the reason, unless the password is acceptable."""
    reason = weakness(password, email=email)
    if reason is not None:
        raise ApiError(422, "weak_password", reason)


__all__ = [
    "MAX_PASSWORD_CHARS",
    "MIN_PASSWORD_CHARS",
    "check_password_policy",
    "common_passwords",
    "weakness",
]
