"""Who is calling, and what they may do: API keys, the request's actor, and scope checks.

People sign in with a session and act as members of their organisation; machines send
`Authorization: Bearer <key>` and act as the key's organisation, limited to the key's scopes.
"""

import hashlib
import hmac
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions

from audit.context import acting_with, actor_payload
from audit.receivers import key_refused
from audit.uses import Note, use_note, uses_write
from databases.prepared import PreparedQuery
from intermodal.errors import InvalidInput
from intermodal.models import DEFAULT_SCOPES, ApiKey, Organisation, Scope, User
from intermodal.permissions import access_for as route_access

KEY_PREFIX = "imk"
# Writing last_used_at on every request would turn reads into writes; once a minute is enough to audit.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_noted_here: dict[int, datetime] = {}  # key id -> when this process last noted its use (audit/uses.py)


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
    granted_by: Collection[str] | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the full key, which is shown once and never stored.

    `granted_by` holds the scopes of whoever asks through the API (their key's, or their party's for a person):
    the new key gets none beyond them nor beyond its organisation's, and an expiry in the future, at most
    API_KEY_MAX_LIFETIME_DAYS ahead, so no key can mint a stronger or longer-lived one. The command line and
    fixtures (granted_by None) are the platform's operators. A key asked for without an expiry gets the longest.
    """
    now = timezone.now()
    longest = now + timedelta(days=settings.API_KEY_MAX_LIFETIME_DAYS)
    allowed = set(DEFAULT_SCOPES[organisation.kind])
    if granted_by is not None:
        allowed &= set(granted_by)
    if scopes is None:
        scopes = [scope for scope in DEFAULT_SCOPES[organisation.kind] if scope in allowed]
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        errors["scopes"] = [f"Unknown scope: {s}" for s in unknown]
    elif granted_by is not None:
        beyond_party = sorted(set(scopes) - set(DEFAULT_SCOPES[organisation.kind]))
        beyond_granter = sorted(set(scopes) - allowed - set(beyond_party))
        if beyond_party:
            errors["scopes"] = [_("Not available to this organisation: %(s)s") % {"s": ", ".join(beyond_party)}]
        elif beyond_granter:
            errors["scopes"] = [_("A key can only be given scopes you hold yourself; not: %(s)s")
                                % {"s": ", ".join(beyond_granter)}]
        if not scopes and "scopes" not in errors:
            errors["scopes"] = [_("You hold no scope that this organisation's keys may have.")]
    if expires_at is None:
        expires_at = longest
    elif granted_by is not None:
        if expires_at <= now:
            errors["expires_at"] = [_("The expiry must be in the future.")]
        elif expires_at > longest:
            errors["expires_at"] = [_("A key lives at most %(days)s days: choose an expiry before %(date)s.")
                                    % {"days": settings.API_KEY_MAX_LIFETIME_DAYS, "date": longest.date().isoformat()}]
    if errors:
        raise InvalidInput(errors=errors)
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


def scopes_held(actor: "Actor") -> list[str]:
    """What an actor may do through the API, and so may hand on to a key: a key's own scopes; for a person, the
    scopes their party kind allows."""
    if actor.api_key is not None:
        return list(actor.api_key.scopes)
    if actor.organisation is None:
        return []
    return list(DEFAULT_SCOPES[actor.organisation.kind])


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
    return key


# Every API request's first read: prepared once per connection (databases/prepared.py).
_KEY_BY_PREFIX = PreparedQuery(
    "api_key_by_prefix", lambda prefix: ApiKey.objects.select_related("organisation").filter(prefix=prefix)[:1],
    prefix=("\x01a", "\x01b"))


def api_key_verify(raw: str) -> tuple[ApiKey | None, str]:
    """(the usable key, "") or (None, why not); the reason names no secret. Records when a key is used."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None, "malformed"
    _kind, prefix, secret = parts
    key = _KEY_BY_PREFIX.first(prefix=prefix[:12])
    if key is None:
        return None, "unknown"
    if not hmac.compare_digest(key.secret_hash, _hash(secret)):
        return None, "wrong_secret"
    if key.revoked_at is not None:
        return None, "revoked"
    if not key.is_usable:
        return None, "expired"
    if not key.organisation.is_active:
        return None, "organisation_inactive"
    _use_note(key, timezone.now())
    return key, ""


def _use_note(key: ApiKey, now: datetime) -> None:
    """Note the key's use for beat's task (audit/uses.py), unless its recorded use, or this process's note of one,
    is under LAST_USED_RESOLUTION old; without Redis the request writes it."""
    if key.last_used_at is not None and now - key.last_used_at <= LAST_USED_RESOLUTION:
        return
    if (noted := _noted_here.get(key.pk)) is not None and now - noted <= LAST_USED_RESOLUTION:
        return
    if not use_note("api_key", key.pk, now):
        _uses_write({key.pk: (now, actor_payload())})
        return
    if len(_noted_here) > 10_000:
        _noted_here.clear()
    _noted_here[key.pk] = now


def _uses_write(noted: dict[int, Note]) -> int:
    """Each key's use (id -> (when, actor)) written under its actor, whom the audit trail's trigger names; a use
    older than the key's recorded one is left. How many keys' last use moved."""
    written = 0
    with transaction.atomic():
        for pk, (at, actor) in sorted(noted.items()):  # locks in one order
            with acting_with(actor):
                written += ApiKey.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=at),
                                                 pk=pk).update(last_used_at=at)
    return written


def api_key_uses_write() -> int:
    """The keys' uses the requests noted, written (beat, every API_KEY_USES_SECONDS): how many keys moved."""
    return uses_write("api_key", _uses_write)


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
        key, reason = api_key_verify(parts[1])
        if key is None:
            if reason not in ("malformed", "unknown"):
                # A real key's prefix with a wrong secret, or a revoked or expired key: worth an audit entry.
                key_refused(request=request, prefix=parts[1].split("_", 2)[1], reason=reason)
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
    """The scope an API key needs, and whether anonymous callers may read, from the permission matrix
    (intermodal/permissions.py); people signed in with a session are not limited by scopes (their party kind
    limits them in selectors and services).

    A route not in the matrix yet (the matrix test fails until it is) falls back on the view's own
    `public_read = True` and `required_scopes` (an action name, an HTTP method, or "*" -> scope).
    """

    message = _("This API key does not have the scope this endpoint needs.")

    def has_permission(self, request, view):
        if self.public(request, view):
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
    def _matrix_access(request):
        match = getattr(request, "resolver_match", None)
        return route_access(match.view_name if match else None, request.method)

    @classmethod
    def public(cls, request, view) -> bool:
        access = cls._matrix_access(request)
        if access is not None:
            return access.public
        return getattr(view, "public_read", False) and request.method in permissions.SAFE_METHODS

    @classmethod
    def scope_needed(cls, request, view) -> str | None:
        access = cls._matrix_access(request)
        if access is not None:
            return access.scope
        scopes = getattr(view, "required_scopes", {}) or {}
        action = getattr(view, "action", None)
        return scopes.get(action) or scopes.get(request.method) or scopes.get("*")
