"""Password helpers for the legacy import path."""
import hashlib
import hmac
import os

import bcrypt
from django.contrib.auth.hashers import make_password

LEGACY_PREFIX = "sha1$"


def hash_password(password: str) -> str:
    """Hash a plaintext password for storage."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=12)).decode("ascii")


def check_legacy(password: str, stored: str) -> bool:
    salt, digest = stored[len(LEGACY_PREFIX):].split("$", 1)
    candidate = hashlib.sha1((salt + password).encode()).hexdigest()
    return hmac.compare_digest(candidate, digest)


def upgrade(user, password):
    user.password = make_password(password)
    user.save(update_fields=["password"])


def new_reset_token() -> str:
    return os.urandom(32).hex()
