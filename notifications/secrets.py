"""Webhook secrets at rest: encrypted with a key derived from Django's secret key (Fernet).

SECRET_KEY_FALLBACKS keep old secrets readable after a key rotation.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet_for(secret_key):
    digest = hashlib.sha256(f"notifications.webhook-secret:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _cipher():
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(key) for key in keys])


def encrypt(plain):
    return _cipher().encrypt(plain.encode()).decode() if plain else ""


def decrypt(token):
    if not token:
        return ""
    try:
        return _cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("The webhook secret cannot be read with the current SECRET_KEY.") from exc
