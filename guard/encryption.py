"""Secrets the platform must read back (webhook and DCSA subscription secrets, to sign with), kept encrypted at rest.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under MultiFernet: the first key of
SECRETS_ENCRYPTION_KEYS encrypts, every key decrypts, so keys rotate without downtime (add the new key first,
re-encrypt with `manage.py secrets_rotate`, then drop the old key). Keys derived from SECRET_KEY and
SECRET_KEY_FALLBACKS come last: a deployment that names no key of its own still stores nothing in clear, and can
move to its own keys later. A database dump or a read-only SQL leak then holds no usable secret.
"""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

DERIVATION_INFO = b"intermodal subscription secrets v1"


def derived_key(secret_key: str) -> bytes:
    """A Fernet key derived from a Django SECRET_KEY (HKDF-SHA256)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=DERIVATION_INFO).derive(secret_key.encode())
    return base64.urlsafe_b64encode(raw)


@functools.lru_cache(maxsize=4)
def _box(keys: tuple[str, ...], secret_keys: tuple[str, ...]) -> MultiFernet:
    try:
        fernets = [Fernet(key.strip().encode()) for key in keys if key.strip()]
    except ValueError:
        raise ImproperlyConfigured(
            "SECRETS_ENCRYPTION_KEYS: each key must be a Fernet key (32 bytes, url-safe base64), made with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
        ) from None
    fernets += [Fernet(derived_key(secret_key)) for secret_key in secret_keys if secret_key]
    return MultiFernet(fernets)


def box() -> MultiFernet:
    return _box(tuple(settings.SECRETS_ENCRYPTION_KEYS),
                (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])))


def encrypt(text: str) -> str:
    return box().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return box().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with SECRETS_ENCRYPTION_KEYS (or SECRET_KEY): was a key dropped "
            "before `manage.py secrets_rotate` ran?") from None


def is_encrypted(value: str) -> bool:
    try:
        box().decrypt(value.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """The same secret encrypted with the first key."""
    return box().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """Text stored encrypted and read back in clear. It cannot be searched or compared in SQL: every encryption of
    the same text differs."""

    def from_db_value(self, value, expression, connection):
        return value if value in (None, "") else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value in (None, "") else encrypt(value)
