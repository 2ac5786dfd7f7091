"""`Idempotency-Key` for POST requests: a retry with the same key gets the first response, and changes nothing.

The same key with another body is a 422; a retry while the first request is still running is a 409. Keys
are per organisation and kept 24 hours (a beat task purges older ones).
"""

import functools
import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.response import Response

from intermodal.access import Actor
from intermodal.api import error_body
from intermodal.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEPT_FOR = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def _request_hash(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str) if request.data else ""
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _refusal(status: int, detail: str, code: str) -> Response:
    return Response(error_body(status, detail, code=code), status=status)


def idempotency_claim(*, organisation, key: str, method: str, path: str, fingerprint: str):
    """Claim a key for a first request: (record, None); or (None, the earlier record, or None if it just went).

    The claim is committed at once, outside the request's own work, so a concurrent retry sees it in progress.
    """
    IdempotencyRecord.objects.filter(
        organisation=organisation, key=key, created_at__lt=timezone.now() - KEPT_FOR
    ).delete()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                organisation=organisation, key=key, method=method, path=path[:500], request_hash=fingerprint
            )
    except IntegrityError:
        return None, IdempotencyRecord.objects.filter(organisation=organisation, key=key).first()
    return record, None


def idempotent(view_method):
    """Wrap a DRF view method (create or a POST action) so it honours the Idempotency-Key header."""

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
        record, existing = idempotency_claim(
            organisation=actor.organisation, key=key, method=request.method, path=request.path, fingerprint=fingerprint
        )
        if record is None:
            if existing is not None and existing.request_hash != fingerprint:
                return _refusal(422, _("This Idempotency-Key was used with another request."), "key_reused")
            if existing is None or existing.response_status is None:
                return _refusal(409, _("A request with this Idempotency-Key is being processed."), "in_progress")
            response = Response(existing.response_body, status=existing.response_status)
            response["Idempotent-Replayed"] = "true"
            return response

        try:
            try:
                response = view_method(self, request, *args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - refusals become responses here, so they are replayed too
                response = self.handle_exception(exc)
        except Exception:
            record.delete()  # a server error: let the client retry with the same key
            raise
        if response.status_code >= 500:
            record.delete()
        else:
            record.response_status = response.status_code
            record.response_body = response.data
            record.save(update_fields=["response_status", "response_body"])
        return response

    return wrapper


def idempotency_purge() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - KEPT_FOR).delete()
    return deleted
