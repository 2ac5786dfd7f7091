"""Shared API pieces: one JSON error shape for every 4xx, pagination, and the base viewset."""

from collections.abc import Mapping
from datetime import UTC

import django_filters
import django_filters.rest_framework
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from guard import text
from guard.outage import is_outage, outage_detail, retry_after
from intermodal.errors import ApplicationError

NON_FIELD = "non_field_errors"


def _flatten(detail) -> dict[str, list[str]]:
    """DRF's nested error details as {field: [messages]}, nested fields joined with dots."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for field, value in detail.items():
            for sub, messages in _flatten(value).items():
                key = field if sub == NON_FIELD else f"{field}.{sub}"
                out.setdefault(key, []).extend(messages)
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {NON_FIELD: [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            for sub, messages in _flatten(item).items():
                key = str(index) if sub == NON_FIELD else f"{index}.{sub}"
                out.setdefault(key, []).extend(messages)
        return out
    return {NON_FIELD: [str(detail)]}


def error_body(status_code: int, detail: str, *, code: str = "", errors: dict | None = None) -> dict:
    return {"status": status_code, "code": code or _default_code(status_code), "detail": str(detail),
            "errors": errors or {}}


def _default_code(status_code: int) -> str:
    return {
        400: "invalid", 401: "not_authenticated", 403: "permission_denied", 404: "not_found",
        405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "too_large",
        415: "unsupported_media_type", 422: "unprocessable", 429: "throttled", 503: "unavailable",
    }.get(status_code, "error")


def exception_handler(exc, context):
    if is_outage(exc):  # the database cannot be reached: try again soon, not a server error
        response = Response(error_body(503, outage_detail()), status=503)
        response["Retry-After"] = retry_after()
        return response
    if isinstance(exc, ApplicationError):
        errors = {field: [str(m) for m in msgs] for field, msgs in exc.errors.items()}
        return Response(error_body(exc.status, exc.message, code=exc.code, errors=errors), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD: exc.messages}
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        detail = _("The input is not valid.")
        if list(errors) == [NON_FIELD] and len(errors[NON_FIELD]) == 1:
            detail = errors[NON_FIELD][0]
        response.data = error_body(response.status_code, detail, code="invalid", errors=errors)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", "") if not isinstance(detail, dict | list) else ""
        if isinstance(detail, dict | list):
            response.data = error_body(response.status_code, _("The request was refused."),
                                       errors=_flatten(detail))
        else:
            response.data = error_body(response.status_code, detail, code=code)
    return response


def json_error_view(status_code: int, detail: str, headers: dict | None = None):
    def view(request, exception=None):
        return JsonResponse(error_body(status_code, detail), status=status_code, headers=headers)

    return view


class StrictPageSize:
    """DRF falls back to the default on a page_size that is not a positive integer and cuts a larger one to
    max_page_size; here both are a 400, as the schema says (`minimum: 1`, `maximum: max_page_size`)."""

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw not in (None, "") and not (
            raw.isascii() and raw.isdigit() and len(raw) <= 6 and 1 <= int(raw) <= self.max_page_size
        ):
            raise exceptions.ValidationError({self.page_size_query_param: [
                _("Give a whole number from 1 to %(n)s.") % {"n": self.max_page_size}]})
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1, "maximum": self.max_page_size}
            elif parameter["name"] == getattr(self, "page_query_param", None):
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
        return parameters


class PagePagination(StrictPageSize, pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


BOOLEAN_VALUES = {"true", "false", "True", "False", "1", "0", ""}


class FilterBackend(django_filters.rest_framework.DjangoFilterBackend):
    """django-filter reads a yes/no filter it cannot parse as "no filter"; here it is a 400, as the schema says."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            bad = {name: [_("Give true or false.")] for name, field in filterset.filters.items()
                   if isinstance(field, django_filters.BooleanFilter)
                   and any(v not in BOOLEAN_VALUES for v in request.query_params.getlist(name))}
            if bad:
                raise exceptions.ValidationError(bad)
        return filterset


MAX_UNKNOWN_NAMED = 20
MULTI_LINE = {"base_template": "textarea.html"}  # DRF's mark of text on several lines (ModelSerializer: TextField)
NUMBER_FIELDS = (serializers.IntegerField, serializers.DecimalField, serializers.FloatField)


def _policy_errors(field, value, path: str, errors: dict[str, list[str]]) -> None:
    """The text policy (guard/text.py) on one raw value, as its field will read it: characters in every
    text, whatever the field (a choice, a reference, a date, a key of a free object); numbers as numbers."""
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        if isinstance(value, list):
            for index, item in enumerate(value):
                _policy_errors(field.child, item, f"{path}.{index}", errors)
        return
    if isinstance(field, serializers.BaseSerializer) and hasattr(field, "fields"):
        if isinstance(value, Mapping):
            for name, sub in field.fields.items():
                if name in value and not sub.read_only:
                    _policy_errors(sub, value[name], f"{path}.{name}" if path else name, errors)
        return
    if isinstance(field, serializers.DictField | serializers.JSONField):
        child = getattr(field, "child", None)
        _json_errors(value, path, errors, child)
        return
    if isinstance(field, NUMBER_FIELDS):
        if value is not None and value != "" and not text.is_ascii_number(value):
            errors.setdefault(path, []).append(str(text.NUMBER_MESSAGE))
        return
    if isinstance(value, str):
        if getattr(field, "trim_whitespace", False):
            value = value.strip()
        problem = text.text_problem(value, multiline=field.style.get("base_template") == MULTI_LINE["base_template"])
        if problem is None and isinstance(field, serializers.DateTimeField):
            problem = _datetime_problem(field, value)
        if problem:
            errors.setdefault(path, []).append(problem)


def _datetime_problem(field, value: str) -> str | None:
    """A date-time outside what can be held (0001-01-01 in Shanghai is before year 1 in UTC): DRF's own
    conversion overflows on some (a 500), others reach PostgreSQL; other mistakes are left to the field."""
    try:
        parsed = field.to_internal_value(value)
    except OverflowError:
        return str(text.DATETIME_RANGE_MESSAGE)
    except (serializers.ValidationError, ValueError, TypeError):
        return None
    return text.datetime_problem(parsed)


def _json_errors(value, path: str, errors: dict[str, list[str]], child=None) -> None:
    """Free JSON: every key and every text in it, at any depth, single-line."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            problem = text.text_problem(str(key))
            if problem:
                errors.setdefault(path, []).append(problem)
            elif child is not None and not isinstance(child, serializers.JSONField | serializers.DictField):
                _policy_errors(child, item, f"{path}.{key}", errors)
            else:
                _json_errors(item, f"{path}.{key}", errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _json_errors(item, f"{path}.{index}", errors)
    elif isinstance(value, str):
        problem = text.text_problem(value)
        if problem:
            errors.setdefault(path, []).append(problem)


class InputPolicy:
    """The text policy on everything a serializer is given, nested serializers, lists and free JSON included,
    before any field reads it: a NUL, a lone surrogate or a control character in any text, or a number given as
    `true` or in other digits, or a date-time outside what can be held, is a 400 naming the field
    (`lines.2.description`). Every request body serializer has it (through KnownFieldsOnly), and so do the query
    serializers."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors: dict[str, list[str]] = {}
            _policy_errors(self, data, "", errors)
            if errors:
                raise serializers.ValidationError(dict(list(errors.items())[:MAX_UNKNOWN_NAMED]))
        return super().to_internal_value(data)


class KnownFieldsOnly(InputPolicy):
    """A request body's keys must be the serializer's writable fields: `consignee_adress` (a typo) or a
    read-only field sent back is a 400 naming it, not silently dropped. The schema says so
    (`additionalProperties: false` on request bodies, intermodal/schema.py). The text policy applies too."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(_printable(key) for key in data if key not in writable)
            if unknown:
                message = _("Unknown field: this request does not take it.")
                raise serializers.ValidationError({key: [message] for key in unknown[:MAX_UNKNOWN_NAMED]})
        return super().to_internal_value(data)


def _printable(key) -> str:
    """A key as the error can name it: at most 100 characters, control characters and lone surrogates written
    as `\\uXXXX` (UTF-8 cannot carry a lone surrogate, nor PostgreSQL's text a NUL: the answer, which an
    idempotent request stores, must be writable)."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in str(key)[:100])


class CodeField(serializers.CharField):
    """A code (container number, HS code, UN/LOCODE, USCC, seal, UN number, currency, country): normalised as
    the text policy says (NFKC, upper case, no spaces or hyphens) before its length and validators see it, so
    `ｃｓｑｕ 305438-3` is CSQU3054383 and `²³99999999` is 2399999999; ASCII only after that."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.append(text.validate_ascii_code)

    def to_internal_value(self, data):
        return super().to_internal_value(text.normalise_code(data))


class StrictCodeField(CodeField):
    """A CodeField that must be sent as a JSON string (a number is not a container number)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class ReferenceField(serializers.CharField):
    """A reference that keeps its hyphens and case (a booking, a station code), sent as a JSON string and
    normalised as the text policy says for references (NFKC, trimmed)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(text.normalise_reference(data))


class CodeFilter(django_filters.CharFilter):
    """A query filter on a code: normalised as a CodeField is (`?container=ｃｓｑｕ 305438-3` finds CSQU3054383)."""

    def filter(self, qs, value):
        return super().filter(qs, text.normalise_code(value))


class ReferenceFilter(django_filters.CharFilter):
    """A query filter on a reference or an object's code: NFKC and trimmed, as a ReferenceField."""

    def filter(self, qs, value):
        return super().filter(qs, text.normalise_reference(value))


class CodeRelatedField(serializers.SlugRelatedField):
    """An object named by its code (a destination's UN/LOCODE, a station's code), normalised like a CodeField."""

    def to_internal_value(self, data):
        return super().to_internal_value(text.normalise_code(data))


class StrictCharField(serializers.CharField):
    """Text that must be sent as a JSON string: DRF's CharField would also take 12 or 1.5 and store "12"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time, held in UTC. Python accepts UTC offsets up to 24 hours and PostgreSQL only up to
    16, so `+21:37` reached the database as it was and failed there (a 500): converted here, or refused when the
    instant is outside the years a datetime can hold."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or parsed.tzinfo is None:
            return parsed
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField

