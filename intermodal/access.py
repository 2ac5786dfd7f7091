"""Who is calling, and what they may do: API keys, the request's actor, and scope checks.

People sign in with a session and act as members of their organisation; machines send
`Authorization: Bearer <key>` and act as the key's organisation, limited to the key's scopes.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions

from intermodal.errors import InvalidInput
from intermodal.models import DEFAULT_SCOPES, ApiKey, Organisation, Scope, User

KEY_PREFIX = "imk"
# Writing last_used_at on every request would turn reads into writes; once a minute is enough to audit.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough: there is nothing to guess by brute force.
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(
    *,
    organisation: Organisation,
    name: str,
    scopes: list[str] | None = None,
    expires_at=None,
    created_by: User | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the full key, which is shown once and never stored."""
    if scopes is None:
        scopes = list(DEFAULT_SCOPES[organisation.kind])
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        raise InvalidInput(errors={"scopes": [f"Unknown scope: {s}" for s in unknown]})
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        organisation=organisation,
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
        created_by=created_by,
    )
    return key, f"{KEY_PREFIX}_{prefix}_{secret}"


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
    return key


def api_key_check(raw: str) -> ApiKey | None:
    """The usable key that `raw` is, or None. Constant-time on the secret."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    _kind, prefix, secret = parts
    key = ApiKey.objects.select_related("organisation").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(secret)):
        return None
    if not key.is_usable or not key.organisation.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


class KeyPrincipal:
    """Stands in for request.user when a machine calls with an API key."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, key: ApiKey):
        self.api_key = key
        self.organisation = key.organisation
        self.organisation_id = key.organisation_id
        self.username = f"key:{key.prefix}"

    def __str__(self):
        return self.username

    @property
    def party_kind(self) -> str:
        return self.organisation.kind


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0] != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the key as 'Authorization: Bearer <key>'."))
        key = api_key_check(parts[1])
        if key is None:
            raise exceptions.AuthenticationFailed(_("The API key is unknown, expired or revoked."))
        return KeyPrincipal(key), key

    def authenticate_header(self, request):
        return self.keyword


@dataclass(frozen=True)
class Actor:
    """The organisation (and person, or key) a request acts for: what services and selectors take."""

    organisation: Organisation | None
    user: User | None = None
    api_key: ApiKey | None = None

    @property
    def kind(self) -> str | None:
        return self.organisation.kind if self.organisation else None

    @classmethod
    def from_request(cls, request) -> "Actor":
        user = getattr(request, "user", None)
        if isinstance(user, KeyPrincipal):
            return cls(organisation=user.organisation, api_key=user.api_key)
        if user is not None and user.is_authenticated:
            return cls(organisation=user.organisation, user=user)
        return cls(organisation=None)


class ScopedAccess(permissions.BasePermission):
    """Views declare `public_read = True` (readable without signing in) and `required_scopes`.

    `required_scopes` maps an action name, an HTTP method, or "*" to the scope an API key needs; people
    signed in with a session are not limited by scopes (their party kind limits them in selectors).
    """

    message = _("This API key does not have the scope this endpoint needs.")

    def has_permission(self, request, view):
        if getattr(view, "public_read", False) and request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if isinstance(user, KeyPrincipal):
            needed = self.scope_needed(request, view)
            if needed and needed not in user.api_key.scopes:
                self.message = _("This API key lacks the scope %(scope)s.") % {"scope": needed}
                return False
        return True

    @staticmethod
    def scope_needed(request, view) -> str | None:
        scopes = getattr(view, "required_scopes", {}) or {}
        action = getattr(view, "action", None)
        return scopes.get(action) or scopes.get(request.method) or scopes.get("*")
