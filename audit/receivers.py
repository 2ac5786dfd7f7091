"""Audit entries written by the application: logins, logouts and lock-outs, and refused API keys.

(Status changes, customs decisions and key creation, use and revocation are written by database triggers.)
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from audit.models import AuditAction, AuditEntry


def _address(request) -> str:
    return request.META.get("REMOTE_ADDR", "")[:45] if request is not None else ""


def _person(user) -> dict:
    organisation = getattr(user, "organisation", None)
    return {
        "actor_user_id": user.pk,
        "actor_username": user.get_username(),
        "organisation_code": organisation.code if organisation is not None else "",
    }


def on_login(sender, request, user, **kwargs):
    AuditEntry.objects.create(action=AuditAction.LOGIN_SUCCESS, ip_address=_address(request), **_person(user))


def on_logout(sender, request, user, **kwargs):
    if user is not None:
        AuditEntry.objects.create(action=AuditAction.LOGOUT, ip_address=_address(request), **_person(user))


def on_login_failed(sender, credentials, request=None, **kwargs):
    # Never the password: Django passes the credentials with it cleansed, and only the username is kept.
    username = str(credentials.get("username", ""))[:150]
    AuditEntry.objects.create(action=AuditAction.LOGIN_FAILURE, actor_username=username, ip_address=_address(request))


def on_locked_out(sender, request, username, ip_address, **kwargs):
    AuditEntry.objects.create(
        action=AuditAction.LOGIN_LOCKED_OUT, actor_username=str(username or "")[:150], ip_address=ip_address or ""
    )


def key_refused(*, request, prefix: str, reason: str) -> None:
    """A request named a key by its prefix but the key was unknown, wrong, revoked or expired."""
    AuditEntry.objects.create(
        action=AuditAction.KEY_REFUSED, object_type="api_key", object_ref=prefix[:100], api_key_prefix=prefix[:12],
        ip_address=_address(request), details={"reason": reason},
    )


def connect() -> None:
    from axes.signals import user_locked_out

    user_logged_in.connect(on_login, dispatch_uid="audit_login")
    user_logged_out.connect(on_logout, dispatch_uid="audit_logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit_login_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="audit_locked_out")
