"""DCSA Track & Trace 2.2.0 event subscriptions: POST/GET /v2/event-subscriptions, GET/PUT/DELETE
/v2/event-subscriptions/{subscriptionID}, PUT .../{subscriptionID}/secret.

A DCSA subscription is a Subscription of format "dcsa": its filters are the 2.2.0 query filters (checked by
the same parser as GET /v2/events, and matched by the same query), its callbacks a JSON array of 2.2.0 events
signed with Notification-Signature: sha256=<hex HMAC-SHA256 of the body, keyed with the decoded secret>.
"""

import base64
import binascii
import uuid

from django.core import signing
from django.utils.http import urlencode
from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from guard.text import json_problems
from intermodal.access import Actor
from intermodal.dcsa import limit_param
from intermodal.models import Scope
from notifications import egress, services
from notifications.models import Subscription, SubscriptionFormat
from notifications.relay import dcsa_params
from notifications.selectors import subscription_list
from tracking.dcsa import (
    CODE_FILTERS,
    DEFAULT_LIMIT,
    MAX_LIMIT,
    TEXT_FILTERS,
    UUID_FILTERS,
    DcsaView,
    _invalid,
    event_query_parse,
    query_check_applies,
)

TAGS = ["DCSA Track & Trace 2.2.0"]
ARRAY_FILTERS = (*CODE_FILTERS, "transportDocumentTypeCode")
STRING_FILTERS = (*TEXT_FILTERS, *UUID_FILTERS)
CURSOR_SALT = "notifications.dcsa.subscriptions-cursor"
URL_MAX = 500
SECRET_MIN_BYTES = 16


def _callback_url(body: dict) -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    url = body.get("callbackUrl")
    if not isinstance(url, str) or not url.strip():
        raise _invalid("callbackUrl", "callbackUrl is required.")
    if len(url) > URL_MAX:
        raise _invalid("callbackUrl", f"callbackUrl is longer than {URL_MAX} characters.")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise _invalid("callbackUrl", f"{url!r} is not an http(s) URL.") from None
    try:
        egress.url_check(url)
    except egress.EgressRefused as refused:
        raise _invalid("callbackUrl", str(refused)) from None
    return url


def _secret(body: dict) -> str:
    secret = body.get("secret")
    if not isinstance(secret, str) or not secret.strip():
        raise _invalid("secret", "secret is required: a base64-encoded shared secret.")
    try:
        decoded = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("secret", "secret must be base64-encoded.") from None
    if len(decoded) < SECRET_MIN_BYTES:
        raise _invalid("secret", f"secret must hold at least {SECRET_MIN_BYTES} bytes.")
    return secret


def _filters(body: dict) -> dict:
    """The 2.2.0 filters of a subscription body: arrays of codes, strings; checked as GET /v2/events checks
    its query."""
    if not isinstance(body, dict):
        raise _invalid("body", "The body must be a JSON object.")
    problems = json_problems(body)  # the text policy (guard/text.py): no NUL or control character anywhere
    if problems:
        where, messages = next(iter(problems.items()))
        raise _invalid(where.split(".")[0], messages[0])
    filters: dict = {}
    for name in ARRAY_FILTERS:
        if name in body and body[name] is not None:
            value = body[name]
            if isinstance(value, str):
                value = [v for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _invalid(name, f"{name} must be an array of codes.")
            if value:
                filters[name] = sorted({v.strip() for v in value})
    for name in STRING_FILTERS:
        if name in body and body[name] is not None:
            if not isinstance(body[name], str):
                raise _invalid(name, f"{name} must be a string.")
            if body[name].strip():
                filters[name] = body[name].strip()
    unknown = set(body) - set(ARRAY_FILTERS) - set(STRING_FILTERS) - {"callbackUrl", "secret", "subscriptionID"}
    if unknown:
        raise _invalid(sorted(unknown)[0], f"Unknown field {sorted(unknown)[0]!r}.")
    if "transportDocumentTypeCode" in filters:
        unknown_codes = set(filters["transportDocumentTypeCode"]) - {"BOL", "SWB"}
        if unknown_codes:
            raise _invalid("transportDocumentTypeCode", "transportDocumentTypeCode is BOL or SWB.")
    # The same checks as the events query (codes in the 2.2.0 enums, lengths, UUIDs, each filter applying to an
    # eventType asked for).
    query, _given = event_query_parse(dcsa_params({k: v for k, v in filters.items()
                                                   if k != "transportDocumentTypeCode"}))
    query_check_applies(query.filters)
    return filters


def as_dcsa(subscription: Subscription) -> dict:
    return {"subscriptionID": str(subscription.subscription_id), "callbackUrl": subscription.url,
            **subscription.dcsa_filters}


def _get(request, subscription_id: str) -> Subscription:
    try:
        key = uuid.UUID(subscription_id)
    except ValueError:
        raise _invalid("subscriptionID", f"{subscription_id!r} is not a UUID.") from None
    subscription = subscription_list(actor=Actor.from_request(request)).filter(
        subscription_id=key, format=SubscriptionFormat.DCSA).first()
    if subscription is None:
        raise exceptions.NotFound()
    return subscription


_BODY = OpenApiTypes.OBJECT
_ERRORS = {code: OpenApiResponse(OpenApiTypes.OBJECT, description="DCSA error object") for code in (400, 401, 403, 404)}
_ID = OpenApiParameter("subscriptionID", OpenApiTypes.UUID, OpenApiParameter.PATH)


class DcsaSubscriptionView(DcsaView):
    required_scopes = {"*": Scope.SUBSCRIPTIONS}


class DcsaSubscriptionListView(DcsaSubscriptionView):
    @extend_schema(operation_id="dcsa_tnt_subscriptions_list", tags=TAGS,
                   summary="Your active DCSA event subscriptions (GET /v2/event-subscriptions)",
                   parameters=[OpenApiParameter("limit", {"type": "integer", "minimum": 1}),
                               OpenApiParameter("cursor", OpenApiTypes.STR)],
                   responses={200: OpenApiResponse(build_array_type(build_basic_type(OpenApiTypes.OBJECT)),
                                                   description="A JSON array of subscriptions"), **_ERRORS})
    def get(self, request):
        limit = limit_param(request.query_params.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
        after = 0
        raw = request.query_params.get("cursor", "").strip()
        if raw:
            try:
                after = int(signing.loads(raw, salt=CURSOR_SALT)["after"])
            except (signing.BadSignature, KeyError, TypeError, ValueError):
                raise _invalid("cursor", "The cursor is not one this server gave out.") from None
        rows = list(subscription_list(actor=Actor.from_request(request))
                    .filter(format=SubscriptionFormat.DCSA, is_active=True, pk__gt=after).order_by("id")[:limit + 1])
        response = Response([as_dcsa(s) for s in rows[:limit]])
        response["Current-Page"] = request.build_absolute_uri()
        if len(rows) > limit:
            cursor = signing.dumps({"after": rows[limit - 1].pk}, salt=CURSOR_SALT)
            response["Next-Page"] = request.build_absolute_uri(
                f"{request.path}?{urlencode({'cursor': cursor, 'limit': limit})}")
        return response

    @extend_schema(operation_id="dcsa_tnt_subscriptions_create", tags=TAGS,
                   summary="Subscribe to events (POST /v2/event-subscriptions)",
                   request=_BODY, responses={201: OpenApiResponse(_BODY, description="The subscription"), **_ERRORS})
    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise _invalid("body", "The body must be a JSON object.")
        url, secret, filters = _callback_url(body), _secret(body), _filters(body)
        created = services.subscription_create(
            actor=Actor.from_request(request), url=url, event_kinds=["*"], format=SubscriptionFormat.DCSA,
            dcsa_filters=filters, secret=secret, name="DCSA")
        return Response(as_dcsa(created.subscription), status=status.HTTP_201_CREATED)


class DcsaSubscriptionDetailView(DcsaSubscriptionView):
    @extend_schema(operation_id="dcsa_tnt_subscription_get", tags=TAGS, parameters=[_ID],
                   summary="One subscription (GET /v2/event-subscriptions/{subscriptionID})",
                   responses={200: OpenApiResponse(_BODY, description="The subscription"), **_ERRORS})
    def get(self, request, subscriptionID):  # noqa: N803 - DCSA's name for the path parameter
        return Response(as_dcsa(_get(request, subscriptionID)))

    @extend_schema(operation_id="dcsa_tnt_subscription_update", tags=TAGS, parameters=[_ID], request=_BODY,
                   summary="Change a subscription (PUT /v2/event-subscriptions/{subscriptionID})",
                   responses={200: OpenApiResponse(_BODY, description="The subscription"), **_ERRORS})
    def put(self, request, subscriptionID):  # noqa: N803
        subscription = _get(request, subscriptionID)
        body = request.data
        if not isinstance(body, dict):
            raise _invalid("body", "The body must be a JSON object.")
        if "secret" in body:
            raise _invalid("secret", "The secret is changed through PUT .../{subscriptionID}/secret only.")
        given_id = body.get("subscriptionID")
        if given_id is not None and str(given_id) != str(subscription.subscription_id):
            raise _invalid("subscriptionID", "subscriptionID in the body differs from the one in the path.")
        url, filters = _callback_url(body), _filters(body)
        subscription = services.subscription_update(actor=Actor.from_request(request), subscription=subscription,
                                                    url=url, dcsa_filters=filters)
        return Response(as_dcsa(subscription))

    @extend_schema(operation_id="dcsa_tnt_subscription_delete", tags=TAGS, parameters=[_ID],
                   summary="Stop a subscription (DELETE /v2/event-subscriptions/{subscriptionID})",
                   responses={204: None, **_ERRORS})
    def delete(self, request, subscriptionID):  # noqa: N803
        services.subscription_delete(actor=Actor.from_request(request), subscription=_get(request, subscriptionID))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DcsaSubscriptionSecretView(DcsaSubscriptionView):
    @extend_schema(operation_id="dcsa_tnt_subscription_secret", tags=TAGS, parameters=[_ID], request=_BODY,
                   summary="Reset the secret (PUT /v2/event-subscriptions/{subscriptionID}/secret)",
                   responses={204: None, **_ERRORS})
    def put(self, request, subscriptionID):  # noqa: N803
        subscription = _get(request, subscriptionID)
        body = request.data if isinstance(request.data, dict) else {}
        services.subscription_rotate_secret(actor=Actor.from_request(request), subscription=subscription,
                                            secret=_secret(body))
        return Response(status=status.HTTP_204_NO_CONTENT)
