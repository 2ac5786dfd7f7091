"""Who is acting, told to the database so its triggers can write it into the audit trail.

The actor (a person or API key with organisation and address in a request; `task:<name>` in a Celery task;
`command:<name>` in a management command; whatever `acting_as` names elsewhere) reaches the triggers as the
PostgreSQL setting `intermodal.audit_actor`. It travels **inside each write statement**, in the same round
trip: the execute wrapper turns `INSERT ...` into

    SELECT set_config('intermodal.audit_actor', %s, true); INSERT ...

with the actor as one more parameter (the approach of django-pghistory for its context). Why this design:

- **No extra round trip.** psycopg2 sends the two statements as one query message and returns the last
  statement's result, so RETURNING, `cursor.rowcount` (what `.update()` and `.delete()` answer) and bulk
  inserts behave as before. The previous design sent a `set_config` of its own before every write: one
  more round trip per INSERT / UPDATE / DELETE (8 of a booking's 30 statements), plus one at the end of
  every request to clear it.
- **Transaction-local (`true`).** The value ends with the transaction (an autocommit write runs both
  statements in one implicit transaction), so nothing is left on a pooled connection for whoever uses it
  next: no clean-up statement after a request, task or command.
- **Savepoints cannot lose it.** Setting it once per transaction would be cheaper by a few bytes, but a
  value first set inside a savepoint that is rolled back (a nested `atomic()` that fails and is caught)
  reverts with it, and every later write of the transaction would be recorded without its actor. Riding
  on every write, the value is always the one of the statement that fires the trigger.

Only writes (INSERT, UPDATE, DELETE, MERGE, and a WITH that holds one) carry it; reads are sent unchanged.
It needs client-side parameter binding, which psycopg2 always does (psycopg 3 too with Django's default
`ClientCursor`, not with `server_side_binding`, which cannot send two statements in one message).

The wrapper is installed by `AuditContextMiddleware` for a request, by `acting_as` for anything else; a
Celery task runs inside `acting_as(username="task:<name>")` (the signal handlers below), and the project's
management commands subclass `ActingCommand`. Where a context ends but its transaction goes on (a test's
transaction, or an `atomic()` block around the context), one statement clears the value so the rest of the
transaction is not written in its name; in a request, task or command, which end outside any transaction,
that never happens.
"""

import contextlib
import contextvars
import json
import re
from collections.abc import Mapping

from django.core.management.base import BaseCommand
from django.db import connection

SETTING = "intermodal.audit_actor"
# A statement that writes: INSERT, UPDATE, DELETE, MERGE, or a WITH whose CTEs hold one (a read with
# `FOR UPDATE` in a WITH is caught too: it only costs the prefix).
_WRITE = re.compile(
    r"\s*(?:(?:INSERT|UPDATE|DELETE|MERGE)\b|WITH\b.*\b(?:INSERT|UPDATE|DELETE|MERGE)\b)", re.IGNORECASE | re.DOTALL
)
_PARAMETER = "intermodal_audit_actor"  # the parameter's name when the statement's parameters are a mapping
_PREFIX = f"SELECT set_config('{SETTING}', %s, true); "
_NAMED_PREFIX = f"SELECT set_config('{SETTING}', %({_PARAMETER})s, true); "

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


def with_actor(sql: str, params, many: bool, actor: str):
    """The statement and parameters that first set the actor for the transaction, then run `sql`."""
    if many:  # executemany: every execution carries its own (an autocommit one is its own transaction)
        rows = list(params)
        if rows and isinstance(rows[0], Mapping):
            return _NAMED_PREFIX + sql, [{**row, _PARAMETER: actor} for row in rows]
        return _PREFIX + sql, [(actor, *row) for row in rows]
    if params is None:  # sent without parameters, so its own % signs were never placeholders
        return _PREFIX + sql.replace("%", "%%"), (actor,)
    if isinstance(params, Mapping):
        return _NAMED_PREFIX + sql, {**params, _PARAMETER: actor}
    return _PREFIX + sql, (actor, *params)


def _send_actor(execute, sql, params, many, context):
    if isinstance(sql, str) and _WRITE.match(sql):
        sql, params = with_actor(sql, params, many, json.dumps(actor_payload(), separators=(",", ":")))
        if context["connection"].in_atomic_block:
            context["connection"].audit_actor_sent = True  # it may outlive the context: see _forget_actor
    return execute(sql, params, many, context)


@contextlib.contextmanager
def _actor_in_writes():
    """Every write on this thread's connection carries the actor until the outermost context ends."""
    if _send_actor in connection.execute_wrappers:  # an enclosing context sends it already
        yield
        return
    try:
        with connection.execute_wrapper(_send_actor):
            yield
    finally:
        _forget_actor()


def _forget_actor() -> None:
    """The context ended inside a transaction that goes on: what the transaction writes next is not this
    actor's. (When the transaction has ended, so has the setting: nothing to send.)"""
    if not getattr(connection, "audit_actor_sent", False):
        return
    connection.audit_actor_sent = False
    if connection.in_atomic_block and not connection.needs_rollback and connection.connection is not None:
        with contextlib.suppress(Exception), connection.connection.cursor() as cursor:  # a failed one is void
            cursor.execute(f"SELECT set_config('{SETTING}', '', true)")


@contextlib.contextmanager
def acting_as(*, username: str = "", organisation_code: str = "", user_id: int | None = None):
    """For work outside a request (a command, a task, a script): who the audit trail names as the actor."""
    payload = {"username": username, "org": organisation_code}
    if user_id is not None:
        payload["user_id"] = user_id
    with acting_with(payload):
        yield


@contextlib.contextmanager
def acting_with(payload: dict):
    """Writes named as `payload`'s actor, as actor_payload gave it: a request's actor, acted on later."""
    token = _override.set(payload)
    try:
        with _actor_in_writes():
            yield
    finally:
        _override.reset(token)


class AuditContextMiddleware:
    """Makes the request the audit context for every write it causes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            with _actor_in_writes():
                return self.get_response(request)
        finally:
            _request.reset(token)


class ActingCommand(BaseCommand):
    """A management command whose writes the audit trail names `command:<its name>`."""

    def execute(self, *args, **options):
        with acting_as(username=f"command:{type(self).__module__.rsplit('.', 1)[-1]}"):
            return super().execute(*args, **options)


# Celery: every task runs as `task:<its name>`, from task_prerun to task_postrun (both are sent in the thread
# that runs the task, in a worker and for task.apply() alike; postrun also after a failure or a retry).
_task_contexts: dict[str, contextlib.ExitStack] = {}


def _task_started(sender=None, task_id=None, task=None, **kwargs):
    stack = contextlib.ExitStack()
    stack.enter_context(acting_as(username=f"task:{task.name}"))
    _task_contexts[task_id] = stack


def _task_ended(sender=None, task_id=None, **kwargs):
    stack = _task_contexts.pop(task_id, None)
    if stack is not None:
        stack.close()


def connect() -> None:
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, dispatch_uid="audit_task_started", weak=False)
    task_postrun.connect(_task_ended, dispatch_uid="audit_task_ended", weak=False)
