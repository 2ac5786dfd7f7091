"""Who is acting, told to the database so its triggers can write it into the audit trail.

A request's actor (person, API key, organisation, address) is sent before each write statement as the
PostgreSQL setting `intermodal.audit_actor`, which the triggers read. It is sent on the raw cursor, so it is
not one of the queries Django counts, and before every write rather than once, because a rolled-back savepoint
would take an earlier setting with it. On SQLite (`make run`) the triggers call a function registered on each
connection that reads the same context.
"""

import contextlib
import contextvars
import json
import re

from django.db import connection
from django.db.backends.signals import connection_created

SETTING = "intermodal.audit_actor"
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)

_request = contextvars.ContextVar("audit_request", default=None)
_override = contextvars.ContextVar("audit_actor", default=None)


def actor_payload(request=None) -> dict:
    """The actor as the triggers read it: user_id, username, key, org, ip (only the parts that are known)."""
    override = _override.get()
    if override is not None:
        return override
    request = request if request is not None else _request.get()
    if request is None:
        return {}
    payload = {"ip": request.META.get("REMOTE_ADDR", "")}
    user = getattr(request, "user", None)  # a session user, or the KeyPrincipal DRF put there
    if user is None or not user.is_authenticated:
        return payload
    api_key = getattr(user, "api_key", None)
    if api_key is not None:
        payload["key"] = api_key.prefix
    else:
        payload["user_id"] = user.pk
        payload["username"] = user.get_username()
    organisation = getattr(user, "organisation", None)
    if organisation is not None:
        payload["org"] = organisation.code
    return payload


@contextlib.contextmanager
def acting_as(*, username: str = "", organisation_code: str = "", user_id: int | None = None):
    """For work outside a request (a command, a task): who the audit trail names as the actor."""
    payload = {"username": username, "org": organisation_code}
    if user_id is not None:
        payload["user_id"] = user_id
    token = _override.set(payload)
    try:
        with connection.execute_wrapper(_send_actor):
            yield
    finally:
        _override.reset(token)
        _forget_actor()


def _send_actor(execute, sql, params, many, context):
    if context["connection"].vendor == "postgresql" and _WRITE.match(sql):
        payload = json.dumps(actor_payload(), separators=(",", ":"))
        context["cursor"].cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, payload])
        context["connection"].audit_actor_sent = True
    return execute(sql, params, many, context)


class AuditContextMiddleware:
    """Makes the request the audit context for every write it causes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            with connection.execute_wrapper(_send_actor):
                return self.get_response(request)
        finally:
            _request.reset(token)
            _forget_actor()


def _forget_actor() -> None:
    """The setting lives as long as the connection: whatever runs next on it must not inherit this actor."""
    if getattr(connection, "audit_actor_sent", False) and connection.connection is not None:
        connection.audit_actor_sent = False
        with contextlib.suppress(Exception):
            connection.connection.cursor().execute("SELECT set_config(%s, '', false)", [SETTING])


def _sqlite_actor() -> str:
    return json.dumps(actor_payload())


def _register_sqlite_function(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function("audit_actor", 0, _sqlite_actor)


def connect() -> None:
    connection_created.connect(_register_sqlite_function, dispatch_uid="audit_sqlite_actor")
