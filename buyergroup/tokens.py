"""Secrets that travel in links or headers: generated once, stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    # The secrets are 256-bit random, so a fast hash is enough; no salt or KDF is needed.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
