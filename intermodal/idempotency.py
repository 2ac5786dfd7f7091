"""`Idempotency-Key` for POST requests: a retry with the same key gets the first response, and changes nothing.

The key's record and its answer are written in the same transaction as the change they answer: a change that
committed replays its answer to a retry; one that did not (refused by a server error, or lost with the database
mid-request) leaves no record, and the key is free for the retry. No outage can leave a key "in progress", nor
make a retry book twice. A retry that arrives while the first request still runs waits for it (its claim waits
on the first one's uncommitted record), and gets its answer; after IDEMPOTENCY_WAIT_SECONDS it is a 409.

The same key with another body is a 422. Keys are per organisation and kept 24 hours (a beat task purges older
ones). An answer that shows a secret once (a new API key, a webhook subscription's signing secret) is kept with
that secret encrypted as subscription secrets are (guard/encryption.py), so a retry gets the secret it lost and
the table never holds one in clear.
"""

import functools
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from guard import encryption
from intermodal.access import Actor
from intermodal.api import error_body
from intermodal.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# The header as every idempotent operation documents it: `@extend_schema(parameters=[IDEMPOTENCY_KEY])`.
IDEMPOTENCY_KEY = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER,
    description="Any text of yours up to 255 characters, new for each change: a retry with the same key and body "
                "gets the first answer and changes nothing (kept 24 hours).")
KEPT_FOR = timedelta(hours=24)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout ends a wait


def _request_hash(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str) if request.data else ""
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _refusal(status: int, detail: str, code: str) -> Response:
    return Response(error_body(status, detail, code=code), status=status)


def idempotency_claim(*, organisation, key: str, method: str, path: str, fingerprint: str):
    """Claim a key for a first request, inside the caller's transaction (which then makes the change and saves
    its answer on the record): (record, None); or (None, the earlier record), or (None, None) when a request with
    this key is still running after IDEMPOTENCY_WAIT_SECONDS.

    The claim is an INSERT under the key's unique constraint: while another transaction holds an uncommitted
    claim of the same key, PostgreSQL makes this one wait for it, then fail (it committed: its answer is read) or
    succeed (it rolled back: the key was free again)."""
    if not connection.in_atomic_block:
        raise RuntimeError("idempotency_claim runs inside the transaction of the change it answers")
    IdempotencyRecord.objects.filter(
        organisation=organisation, key=key, created_at__lt=timezone.now() - KEPT_FOR
    ).delete()
    wait_ms = max(1, int(settings.IDEMPOTENCY_WAIT_SECONDS * 1000))
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)",
                       [f"{wait_ms}ms"])
        (previous, _set) = cursor.fetchone()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                organisation=organisation, key=key, method=method, path=path[:500], request_hash=fingerprint
            )
    except IntegrityError:
        return None, IdempotencyRecord.objects.filter(organisation=organisation, key=key).first()
    except OperationalError as error:
        if getattr(error.__cause__, "pgcode", None) == LOCK_NOT_AVAILABLE:
            return None, None
        raise
    finally:
        if not connection.needs_rollback:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    return record, None


def idempotency_answer(record: IdempotencyRecord, *, status: int, body) -> None:
    """Save the answer on the claimed record, in the transaction of the change it answers. The body is kept as
    its JSON text (a JSON string in the column): jsonb keeps no key order, and a replay is the same bytes."""
    record.response_status = status
    record.response_body = json.dumps(body, cls=DjangoJSONEncoder, separators=(",", ":"))
    record.save(update_fields=["response_status", "response_body"])


def idempotency_answer_body(record: IdempotencyRecord):
    """The saved answer's body (records written before it was kept as text hold the object itself)."""
    body = record.response_body
    return json.loads(body) if isinstance(body, str) else body


def idempotent(view_method=None, *, secret_fields: tuple[str, ...] = ()):
    """Wrap a DRF view method (create or a POST action) so it honours the Idempotency-Key header: the claim,
    the change and the answer in one transaction. `@idempotent(secret_fields=("secret",))` keeps those fields of
    the answer encrypted."""
    if view_method is None:
        return functools.partial(idempotent, secret_fields=secret_fields)

    @functools.wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        actor = Actor.from_request(request)
        if not key or actor.organisation is None:
            return view_method(self, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            return Response(
                error_body(
                    400,
                    _("The Idempotency-Key is too long."),
                    errors={HEADER: [_("At most %(n)s characters.") % {"n": MAX_KEY_LENGTH}]},
                ),
                status=400,
            )
        fingerprint = _request_hash(request)
        # A database error anywhere in here (the commit included) leaves the block: nothing of the request is
        # kept, the key included, and the API answers 503 (intermodal.api.exception_handler).
        with transaction.atomic():
            record, existing = idempotency_claim(
                organisation=actor.organisation, key=key, method=request.method, path=request.path,
                fingerprint=fingerprint,
            )
            if record is None:
                return _earlier_answer(existing, fingerprint, secret_fields)
            try:
                response = view_method(self, request, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - refusals become responses here, so they are replayed too
                response = self.handle_exception(exc)
            if response.status_code >= 500:
                transaction.set_rollback(True)  # a server error: the key stays free for the retry
                return response
            idempotency_answer(record, status=response.status_code,
                               body=_sealed(response.data, secret_fields, encryption.encrypt))
        return response

    wrapper.idempotent = True  # tests/intermodal/test_idempotent_writes.py finds every POST that is not
    return wrapper


def _sealed(body, fields: tuple[str, ...], seal):
    """The answer with its secret fields passed through `seal` (encrypt to keep, decrypt to replay)."""
    if not fields or not isinstance(body, dict):
        return body
    return {name: seal(value) if name in fields and isinstance(value, str) else value for name, value in body.items()}


def _earlier_answer(existing: IdempotencyRecord | None, fingerprint: str, secret_fields=()) -> Response:
    if existing is not None and existing.request_hash != fingerprint:
        return _refusal(422, _("This Idempotency-Key was used with another request."), "key_reused")
    if existing is None or existing.response_status is None:
        return _refusal(409, _("A request with this Idempotency-Key is being processed."), "in_progress")
    body = _sealed(idempotency_answer_body(existing), secret_fields, encryption.decrypt)
    response = Response(body, status=existing.response_status)
    response["Idempotent-Replayed"] = "true"
    return response
