"""What the DCSA interfaces (tracking: Track & Trace; schedules: Commercial Schedules; bkg: Booking) share: their
versions, how they write times, the code-list provider of SCAC codes, and DCSA's ErrorResponse (API Design &
Implementation Principles 2.0) for the interfaces whose standard uses it (Commercial Schedules 1.0, Booking 2.0).

The project's handler decides an error's status and headers (WWW-Authenticate, Retry-After), this writes the body.
Each message is a DetailedError: `errorCode` 7000 + the HTTP status (DCSA leaves the codes to the implementer),
the parameter and value sent, or the JSON path into the body."""

from datetime import UTC, datetime
from http import HTTPStatus
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions

from intermodal.api import NON_FIELD
from intermodal.api import exception_handler as project_exception_handler

_ERROR_TEXT = {400: "invalidInput", 401: "unauthorized", 403: "forbidden", 404: "notFound", 405: "methodNotAllowed",
               406: "notAcceptable", 409: "conflict", 413: "payloadTooLarge", 415: "unsupportedMediaType",
               429: "tooManyRequests", 503: "serviceUnavailable"}
_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")


# SCAC codes are issued by NMFTA.
SCAC_PROVIDER = "NMFTA"


def limit_param(raw: str | None, *, default: int, maximum: int) -> int:
    """A DCSA list's `limit`: `default` when not given; a larger one than `maximum` is served as `maximum` (the
    rest follows on the next page)."""
    value = (raw or "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise exceptions.ValidationError({"limit": [f"{raw!r} is not a whole number of at least 1."]})
    return min(int(value), maximum)


def utc_text(moment: datetime) -> str:
    """A date-time in UTC, as DCSA writes it: 2026-12-04T08:00:00Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_text(moment: datetime, zone: str | None = None) -> str:
    """A date-time in the place's time zone (a station's), else the network's, with its offset."""
    return moment.astimezone(ZoneInfo(zone or settings.TIME_ZONE)).isoformat()


# The DCSA interfaces that answer in this shape, and their versions (Track & Trace 2.2.0 has an error object of its
# own). A path none of their routes takes is answered in it too (intermodal/urls.py handler404).
VERSIONS = {"/api/dcsa/cs/": "1.0.3", "/api/dcsa/bkg/": "2.0.5"}
PATHS = tuple(VERSIONS)


def version_of(path: str) -> str:
    return next(version for prefix, version in VERSIONS.items() if path.startswith(prefix))


def error_body(request, code: int, errors: list[dict]) -> dict:
    return {
        "httpMethod": request.method if request.method in _METHODS else "GET",
        "requestUri": request.build_absolute_uri()[:2000],
        "statusCode": code,
        "statusCodeText": HTTPStatus(code).phrase[:50],
        "errorDateTime": utc_text(timezone.now()),
        "errors": errors,
    }


def plain_error(request, code: int, message: str) -> dict:
    """The body of an error answered outside a DCSA view (a path no route takes, a server error)."""
    text = _ERROR_TEXT.get(code, "internalError")
    return error_body(request, code, [{"errorCode": 7000 + code, "errorCodeText": text, "errorCodeMessage": message}])


def dcsa_error_handler(exc, context):
    response = project_exception_handler(exc, context)
    if response is None:
        return None
    request = context["request"]
    body = response.data if isinstance(response.data, dict) else {}
    code = response.status_code
    text = _ERROR_TEXT.get(code, "internalError")
    errors = []
    for name, messages in (body.get("errors") or {}).items():
        for message in messages:
            error = {"errorCode": 7000 + code, "errorCodeText": text, "errorCodeMessage": str(message)[:5000]}
            if name.startswith("$"):
                error["jsonPath"] = name[:500]
            elif name != NON_FIELD:
                error["property"] = name[:100]
                sent = request.query_params.get(name)
                if sent is not None:
                    error["value"] = sent[:500]
            errors.append(error)
    if not errors:
        errors = [{"errorCode": 7000 + code, "errorCodeText": text,
                   "errorCodeMessage": str(body.get("detail") or HTTPStatus(code).phrase)[:5000]}]
    response.data = error_body(request, code, errors)
    return response
