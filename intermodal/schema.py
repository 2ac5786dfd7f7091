"""OpenAPI: the API key authentication (loaded when the app is ready), and the error answers of every operation.
"""

import re

from django.urls import Resolver404, resolve
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import is_list_serializer
from rest_framework import serializers


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "intermodal.access.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An organisation's API key: `Authorization: Bearer imk_<prefix>_<secret>`.",
        }


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, with limits it leaves out though DRF enforces them: a nested `many=True` serializer's
    `allow_empty`, `min_length` and `max_length` (goods lines, containers, bulk events) as minItems / maxItems, and
    the column length of an object named by its code or reference as maxLength."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # An object named by its code or reference: a longer one names nothing (a 400), so the column's length
        # is the parameter's maxLength.
        if isinstance(field, serializers.SlugRelatedField) and field.queryset is not None and isinstance(schema, dict):
            max_length = getattr(field.queryset.model._meta.get_field(field.slug_field), "max_length", None)
            if max_length and schema.get("type") == "string":
                schema.setdefault("maxLength", max_length)
        return schema

    def _unwrap_list_serializer(self, serializer, direction):
        schema = super()._unwrap_list_serializer(serializer, direction)
        if schema and is_list_serializer(serializer):
            minimum = serializer.min_length or (0 if serializer.allow_empty else 1)
            if minimum:
                schema["minItems"] = minimum
            if serializer.max_length is not None:
                schema["maxItems"] = serializer.max_length
        return schema


# --- Error responses and anonymous access, added to every operation of the generated schema -------------------

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every 4xx (and the 503 of an outage) of the API: the status, a code, a sentence for people, "
                   "and messages per field.",
    "properties": {
        "status": {"type": "integer", "example": 400},
        "code": {"type": "string", "example": "invalid"},
        "detail": {"type": "string", "example": "The input is not valid."},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"cargo_weight_kg": ["Ensure this value is greater than or equal to 1."]},
        },
    },
    "required": ["status", "code", "detail", "errors"],
}
ERROR_DESCRIPTIONS = {
    400: "The input is not valid: messages per field in `errors`.",
    401: "No API key or session, or the key is unknown, expired or revoked.",
    403: "The key lacks the scope, or the caller's party may not do this.",
    404: "No such object for this caller (another organisation's objects are a 404 too).",
    405: "The method is not allowed here.",
    406: "The response cannot be given in the type the Accept header asks for.",
    409: "The change does not follow from the object's current state, or the Idempotency-Key is in use.",
    413: "The request body is larger than the server accepts.",
    414: "The URL with its query string is longer than the web server accepts (8,190 bytes).",
    415: "The request body is not JSON.",
    422: "The Idempotency-Key was used with another request.",
    429: "Too many requests: wait for the seconds in Retry-After.",
    431: "The request's header fields are too many or too large (the web server's limit).",
    503: "The database is briefly unreachable, or the request took longer than the server allows: try again after "
         "the seconds in Retry-After (with the same Idempotency-Key, a change is made at most once).",
}
BODY_ONLY = {413, 415}
WRITE_ONLY = {409, 422}
RETRY_AFTER = {429, 503}


def view_name_of(path: str) -> str | None:
    """The URL name of a schema path (`/api/v1/bookings/{reference}/` -> `booking-detail`)."""
    try:
        return resolve(re.sub(r"\{[^}]+\}", "x", path)).view_name
    except Resolver404:
        return None


def document_errors(result, generator, request, public):
    """drf-spectacular post-processing hook: every operation documents the error answers it can give, in the
    one error shape (the DCSA endpoints in DCSA's error object), and public reads say a key is optional."""
    from intermodal.permissions import access_for

    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    error_ref = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path, operations in result.get("paths", {}).items():
        is_dcsa = path.startswith("/api/dcsa/")
        view_name = view_name_of(path)
        filters = _filters_of(path)
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            template = next((responses[c] for c in ("400", "404") if c in responses), None) if is_dcsa else None
            for code, description in ERROR_DESCRIPTIONS.items():
                if code in BODY_ONLY and method not in ("post", "put", "patch"):
                    continue
                if code in WRITE_ONLY and method == "get":
                    continue
                existing = responses.get(str(code))
                if is_dcsa:
                    if existing is None and template is not None:
                        responses[str(code)] = {**template, "description": description}
                    continue
                responses[str(code)] = {
                    "description": description,
                    "content": {"application/json": {"schema": error_ref}},
                    **({"headers": {"Retry-After": {"schema": {"type": "integer"},
                                                    "description": "Seconds to wait."}}}
                       if code in RETRY_AFTER else {}),
                }
            for parameter in operation.get("parameters", []):
                _parameter_limits(parameter, filters.get(parameter.get("name")) if method == "get" else None)
                # Filters and query serializers treat `?name=` as not given (HTML form semantics).
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
            access = access_for(view_name, method.upper())
            if access is not None and access.public and {} not in operation.get("security", []):
                operation.setdefault("security", []).append({})
    _request_bodies_closed(result)
    return result


DATETIME_RANGE = "Date-times from 0001-01-02 to 9999-12-30 (UTC); others are a 400."
TEXT_POLICY = "No control characters (docs/SECURITY.md, text policy): a value holding one is a 400."


def _filters_of(path: str) -> dict:
    """The django-filter filters of the view behind a schema path, by name ({} for a view without)."""
    try:
        view = resolve(re.sub(r"\{[^}]+\}", "x", path)).func
    except Resolver404:
        return {}
    filterset = getattr(getattr(view, "cls", None), "filterset_class", None)
    return dict(filterset.base_filters) if filterset is not None else {}


def _parameter_limits(parameter: dict, filter_=None) -> None:
    """What the server enforces on every parameter, said in the schema: a filter's min_value / max_value /
    max_length, a required text is not empty (minLength), a date-time has a range, no text holds a control
    character (guard/text.py)."""
    schema = parameter.get("schema")
    if not isinstance(schema, dict) or parameter.get("in") not in ("query", "path"):
        return
    if filter_ is not None:
        for option, keyword in (("min_value", "minimum"), ("max_value", "maximum"), ("max_length", "maxLength")):
            if filter_.extra.get(option) is not None:
                schema.setdefault(keyword, filter_.extra[option])
    notes = []
    if schema.get("type") == "string" and "enum" not in schema:
        if parameter.get("required") and "minLength" not in schema and "format" not in schema:
            schema["minLength"] = 1
        if schema.get("format") == "date-time":
            notes.append(DATETIME_RANGE)
        notes.append(TEXT_POLICY)
    description = parameter.get("description", "")
    for note in notes:
        if note not in description:
            description = f"{description} {note}".strip()
    if notes:
        parameter["description"] = description


def _request_bodies_closed(result) -> None:
    """Our request bodies take their documented fields only (intermodal.api.KnownFieldsOnly): every object
    schema a request body reaches says `additionalProperties: false`. DCSA's bodies are left as DCSA has them."""
    components = result.get("components", {}).get("schemas", {})
    seen: set[str] = set()

    def close(schema) -> None:
        if isinstance(schema, list):
            for item in schema:
                close(item)
            return
        if not isinstance(schema, dict):
            return
        ref = schema.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in seen and name in components:
                seen.add(name)
                close(components[name])
            return
        if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for value in schema.get("properties", {}).values():
            close(value)
        for key in ("items", "allOf", "oneOf", "anyOf"):
            if key in schema:
                close(schema[key])

    for path, operations in result.get("paths", {}).items():
        if path.startswith("/api/dcsa/"):
            continue
        for method, operation in operations.items():
            if method in ("post", "put", "patch") and isinstance(operation, dict):
                for content in operation.get("requestBody", {}).get("content", {}).values():
                    close(content.get("schema"))
