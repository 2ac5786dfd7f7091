"""UN/EDIFACT (D.95B) for legacy systems, under /api/edi/:

- GET /api/edi/iftsta?since=<ISO time>: one interchange of IFTSTA messages of the events the key's organisation
  may see, created at or after `since` (a page: `limit`, then the Next-Page link).
- POST /api/edi/inbound: one interchange of CODECO and COARRI messages (Content-Type application/edifact), applied
  as reported events; the answer per message as JSON, or as APERAK with `Accept: application/edifact`.

Errors are the API's JSON error shape whatever was asked (a 400 names the segment that is wrong).
"""

from contextlib import nullcontext

from django.conf import settings
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from edi.aperak import aperak_interchange
from edi.edifact import MEDIA_TYPE
from edi.iftsta import DEFAULT_LIMIT, MAX_LIMIT, iftsta_interchange, iftsta_page
from edi.inbound import interchange_apply, interchange_read
from intermodal.access import Actor
from intermodal.models import Scope
from intermodal.permissions import REPORTERS
from tracking.dcsa import datetime_param

TAG = "UN/EDIFACT D.95B"


class EdifactRenderer(BaseRenderer):
    media_type = MEDIA_TYPE
    format = "edifact"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode("utf-8") if isinstance(data, str) else b""


class EdifactParser(BaseParser):
    """The body as text: UTF-8, else ISO 8859-1 (UNOC, the syntax level of D.95B-era systems)."""

    media_type = MEDIA_TYPE

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


class PlainTextEdifactParser(EdifactParser):
    media_type = "text/plain"


class EdifactOnly(BaseContentNegotiation):
    """IFTSTA is one format: whatever the Accept header asks, the answer is an interchange."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class _EdifactView(APIView):
    """Errors in the API's JSON shape even when the answer would have been EDIFACT."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and not isinstance(response.data, str):
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response


def _since(raw: str | None):
    """An aware date-time, as DCSA's eventCreatedDateTime takes it (an unencoded "+" arrives as a space)."""
    return datetime_param("since", raw) if raw is not None and raw.strip() else None


def _limit(raw: str | None) -> int | None:
    if raw is None or not raw.strip():
        return None
    if not (raw.strip().isascii() and raw.strip().isdigit()) or int(raw) < 1:
        raise exceptions.ValidationError({"limit": [_("Give a whole number of at least 1.")]})
    return int(raw)


def _page_header(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200], description=description)


IFTSTA_SAMPLE = ("UNA:+.? 'UNB+UNOC:3+INTERMODAL:ZZZ+DEMO-PORT:ZZZ+261204:1030+5F3A9C1D2E4B6A'"
                 "UNH+1+IFTSTA:D:95B:UN'BGM+23+3f2c...+9'DTM+137:202612041030:203'CNI+1+BK-2026-000123'"
                 "STS+ACT:DCSA:ZZZ+GTIN:DCSA:ZZZ'RFF+BN:BK-2026-000123'DTM+334:202612041028:203'"
                 "LOC+175+CNBLG:139:6+BEILUN:TER:ZZZ'EQD+CN+CSQU3054383+42G1:102:5+++5'UNT+9+1'UNZ+1+5F3A9C1D2E4B6A'")


class IftstaView(_EdifactView):
    required_scopes = {"GET": Scope.EVENTS_READ}
    renderer_classes = [EdifactRenderer]
    content_negotiation_class = EdifactOnly

    @extend_schema(
        operation_id="edi_iftsta",
        tags=[TAG],
        summary="IFTSTA status messages (UN/EDIFACT D.95B) of the events you may see, since a time",
        description=(
            "One interchange (`application/edifact`) with one IFTSTA message per event your organisation may see "
            "(the same events as GET /api/v1/events/), created at or after `since`, in the order they were "
            "committed. At most `limit` events: the `Next-Page` link (or `cursor=` + `Next-Page-Cursor`) gives "
            "the next part, and, polled later, what was committed since. `More-Events: true` when more are "
            "waiting now.\n\n"
            "`curl -H 'Authorization: Bearer <key>' 'https://<host>/api/edi/iftsta?since=2026-12-04T00:00:00%2B08:00'`"
        ),
        parameters=[
            OpenApiParameter("since", OpenApiTypes.DATETIME, description=(
                "Events created at or after this date-time, with its offset (required unless `cursor` is given).")),
            OpenApiParameter("limit", {"type": "integer", "minimum": 1}, description=(
                f"Events per interchange, {DEFAULT_LIMIT} by default; more than {MAX_LIMIT} is served as "
                f"{MAX_LIMIT}.")),
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From Next-Page-Cursor: where to go on from."),
            _page_header("Next-Page", "The link to the next part (after this interchange's last event)."),
            _page_header("Next-Page-Cursor", "The cursor of Next-Page alone (send it as `cursor`)."),
            _page_header("More-Events", "true when more events are waiting now, else false."),
        ],
        responses={(200, MEDIA_TYPE): OpenApiResponse(
            OpenApiTypes.STR, description="A UN/EDIFACT interchange of IFTSTA (D.95B) messages",
            examples=[OpenApiExample("IFTSTA", value=IFTSTA_SAMPLE, media_type=MEDIA_TYPE)])},
    )
    def get(self, request):
        params = request.query_params
        actor = Actor.from_request(request)
        page = iftsta_page(actor=actor, since=_since(params.get("since")), cursor=params.get("cursor") or None,
                           limit=_limit(params.get("limit")))
        response = Response(iftsta_interchange(actor=actor, events=page.events))
        response["Next-Page"] = request.build_absolute_uri(f"{request.path}?{urlencode({'cursor': page.cursor})}")
        response["Next-Page-Cursor"] = page.cursor
        response["More-Events"] = "true" if page.more else "false"
        return response


class ContainerResultSerializer(serializers.Serializer):
    equipment_reference = serializers.CharField()
    status = serializers.IntegerField(help_text="201 applied; otherwise the status POST /api/v1/events/ gives.")
    result = serializers.CharField(required=False, help_text="applied")
    replayed = serializers.BooleanField(required=False, help_text="Sent before: the first answer, nothing applied.")
    container_status = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


class MessageResultSerializer(serializers.Serializer):
    message_reference = serializers.CharField(help_text="UNH 0062")
    message_type = serializers.ChoiceField(choices=["CODECO", "COARRI"])
    document_code = serializers.CharField(help_text="BGM 1001: 34, 36, 46 or 44")
    document_number = serializers.CharField(help_text="BGM 1004")
    event_code = serializers.ChoiceField(choices=["GTIN", "GTOT", "LOAD", "DISC"])
    result = serializers.CharField(help_text="accepted (every container applied), partly_accepted or refused (none)")
    applied = serializers.IntegerField()
    refused = serializers.IntegerField()
    containers = ContainerResultSerializer(many=True)


class InboundAnswerSerializer(serializers.Serializer):
    directory = serializers.CharField()
    sender = serializers.CharField(help_text="UNB S002")
    control_reference = serializers.CharField(help_text="UNB 0020")
    messages = MessageResultSerializer(many=True)


# The body's limit is the server's (intermodal.security: a larger body is a 413 before it is read).
INTERCHANGE_BODY = {"type": "string", "maxLength": settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
                    "description": "One UN/EDIFACT interchange (UNA/UNB ... UNZ) of CODECO and COARRI D.95B messages."}


class InboundView(_EdifactView):
    required_scopes = {"POST": Scope.EVENTS_WRITE}
    parser_classes = [EdifactParser, PlainTextEdifactParser]
    renderer_classes = [JSONRenderer, EdifactRenderer]

    @extend_schema(
        operation_id="edi_inbound",
        tags=[TAG],
        summary="Report gate-ins/outs (CODECO) and loads/discharges (COARRI) as UN/EDIFACT D.95B",
        description=(
            "One interchange of CODECO (BGM 34 gate-in, 36 gate-out) and COARRI (BGM 46 loading, 44 discharge) "
            "messages, D.95B. Each container (EQD+CN) is applied as POST /api/v1/events/ applies a list: the "
            "same checks, a result per container, all in one transaction. Sent again (the same UNB sender and "
            "control reference), nothing is applied twice and the answer is the first one's (`replayed`). An "
            "interchange that cannot be read is a 400 naming the segment, and nothing of it is applied. The "
            "answer is JSON, or an APERAK interchange with `Accept: application/edifact`.\n\n"
            "`curl -X POST -H 'Authorization: Bearer <key>' -H 'Content-Type: application/edifact' "
            "--data-binary @codeco.edi https://<host>/api/edi/inbound`"
        ),
        request={MEDIA_TYPE: INTERCHANGE_BODY, "text/plain": INTERCHANGE_BODY},
        parameters=[OpenApiParameter("confirm", OpenApiTypes.BOOL, description=(
            "Record times that are far from the plan or out of the steps' order (else such a container is "
            "refused as `implausible`)."))],
        responses={
            (200, "application/json"): InboundAnswerSerializer,
            (200, MEDIA_TYPE): OpenApiResponse(OpenApiTypes.STR, description="An APERAK (D.95B) interchange"),
        },
    )
    def post(self, request):
        actor = Actor.from_request(request)
        if actor.kind not in REPORTERS:
            raise exceptions.PermissionDenied(_("Only stations, railways and the port report events."))
        confirm = (request.query_params.get("confirm") or "").strip().lower()
        if confirm not in ("", "true", "false", "1", "0"):
            raise exceptions.ValidationError({"confirm": [_("Give true or false.")]})
        text = request.data
        if not isinstance(text, str):
            if text:  # a form or another parser's data: not an interchange
                raise exceptions.UnsupportedMediaType(request.content_type)
            text = ""  # no body at all

        edifact = request.accepted_renderer.media_type == MEDIA_TYPE
        # An APERAK is read by systems that expect English reasons, whatever the request's language.
        with translation.override("en") if edifact else nullcontext():
            interchange = interchange_read(text)
            answer = interchange_apply(actor=actor, interchange=interchange, confirm=confirm in ("true", "1"))
            if edifact:
                return Response(aperak_interchange(answer, recipient=interchange.sender))
        return Response(answer)
