"""DCSA Booking 2.0.5 for partner systems, under /api/dcsa/bkg/v2/: POST /bookings, GET|PUT|PATCH
/bookings/{bookingReference} (the request's reference, CBR-..., or the booking's, BK-...). Bodies are checked
against DCSA's own file (bkg.services.payload_problems): a 400 names each JSON path DCSA's schema refuses."""

from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, parsers
from rest_framework.response import Response
from rest_framework.views import APIView

from bkg import services
from bkg.models import AmendmentStatus, BookingRequest
from databases.replicas import ReplicaReadsMixin
from guard.text import json_problems
from intermodal.access import Actor
from intermodal.dcsa import dcsa_error_handler
from intermodal.dcsa import local_text as _local
from intermodal.errors import NotFound
from intermodal.idempotency import IDEMPOTENCY_KEY, idempotent
from intermodal.models import Scope
from stations.models import Mode

API_VERSION = services.API_VERSION


def _local_date(moment) -> str:
    return _local(moment)[:10]


def _transport_plan(booking) -> list[dict]:
    departure, call = booking.departure, booking.vessel_call
    service, terminal = departure.service, call.terminal
    at_terminal = {"locationName": terminal.name[:100], "UNLocationCode": terminal.port_unlocode}
    pre_carriage = {
        "transportPlanStage": "PRC", "transportPlanStageSequenceNumber": 1,
        "loadLocation": {"locationName": service.station.name[:100], "UNLocationCode": service.station.unlocode},
        "dischargeLocation": at_terminal,
        "plannedDepartureDate": _local_date(departure.planned_departure),
        "plannedArrivalDate": _local_date(departure.planned_arrival),
        "modeOfTransport": "BARGE" if service.mode == Mode.BARGE else "RAIL",
        "carrierServiceCode": service.short_code,
        "carrierExportVoyageNumber": departure.reference,
    }
    destination = booking.destination
    arrival = (_local_date(call.etd + timedelta(days=destination.sea_transit_days))
               if destination.sea_transit_days else "1970-01-01")  # DCSA's date for "not known"
    main = {
        "transportPlanStage": "MNC", "transportPlanStageSequenceNumber": 2,
        "loadLocation": at_terminal,
        "dischargeLocation": {"locationName": destination.name[:100], "UNLocationCode": destination.unlocode},
        "plannedDepartureDate": _local_date(call.etd), "plannedArrivalDate": arrival,
        "modeOfTransport": "VESSEL", "vesselName": call.vessel_name[:50].strip(), "vesselIMONumber": call.imo_number,
        "carrierExportVoyageNumber": call.voyage,
    }
    if call.service_code:
        main["carrierServiceCode"] = call.service_code
    return [pre_carriage, main]


def _charges(booking) -> list[dict]:
    charges = []
    for name, amount in (("Rail / barge", booking.quote_transport), ("Port handling", booking.quote_port_handling),
                         ("Documentation", booking.quote_documentation)):
        charges.append({"chargeName": name, "currencyAmount": float(amount), "currencyCode": booking.currency,
                        "paymentTermCode": "PRE", "calculationBasis": "Per booking", "unitPrice": float(amount),
                        "quantity": 1})
    return charges


def booking_body(request: BookingRequest, *, amended: bool = False) -> dict:
    """DCSA's Booking: the shipper's request (or its amendment) as sent, with what we made of it."""
    body = dict(request.amendment if amended else request.payload)
    for name in ("carrierBookingReference", "bookingStatus", "amendedBookingStatus", "bookingCancellationStatus",
                 "confirmedEquipments", "transportPlan", "shipmentCutOffTimes", "charges", "feedbacks"):
        body.pop(name, None)
    body.update(services.notification_data(request))
    booking = request.booking
    if booking is not None:
        body["confirmedEquipments"] = [{"ISOEquipmentCode": line.size_type, "units": line.quantity}
                                       for line in booking.lines.all()]
        body["transportPlan"] = _transport_plan(booking)
        station = booking.departure.service.station
        body["shipmentCutOffTimes"] = [
            {"cutOffDateTimeCode": "FCO", "cutOffDateTime": _local(booking.departure.closing_time, station.timezone)},
            {"cutOffDateTimeCode": "VCO", "cutOffDateTime": _local(booking.vessel_call.vgm_cutoff)},
            {"cutOffDateTimeCode": "DCO", "cutOffDateTime": _local(booking.vessel_call.si_cutoff)},
        ]
        body["charges"] = _charges(booking)
    return body


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise exceptions.ValidationError({"$": ["The body is one JSON object."]})
    return request.data


def _changed(request, reference: str, schema_name: str, change) -> HttpResponse:
    """PUT and PATCH: another organisation's request is a 404 whatever the body; the body is checked against DCSA's
    schema; the change is made. DCSA's 202 has an empty body, of the JSON content type its file declares (DRF drops
    the content type of an empty answer)."""
    actor = Actor.from_request(request)
    services.request_get(actor=actor, reference=reference)
    change(actor, _checked(schema_name, _body(request)))
    return HttpResponse(status=202, content_type="application/json")


def _json_path(dotted: str) -> str:
    return "$" + "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in dotted.split(".")) \
        if dotted != "body" else "$"


def _checked(schema_name: str, payload: dict) -> dict:
    """The text policy first (no NUL or control characters anywhere: PostgreSQL's JSON cannot even hold a NUL), then
    DCSA's schema."""
    problems = {_json_path(path): messages for path, messages in json_problems(payload).items()}
    problems = problems or services.payload_problems(schema_name, payload)
    if problems:
        raise exceptions.ValidationError(problems)
    return payload


class BkgView(ReplicaReadsMixin, APIView):
    """DCSA's error shape and API-Version header on every answer; bookings:read and bookings:write for keys."""

    required_scopes = {"GET": Scope.BOOKINGS_READ, "POST": Scope.BOOKINGS_WRITE, "PUT": Scope.BOOKINGS_WRITE,
                       "PATCH": Scope.BOOKINGS_WRITE}
    parser_classes = [parsers.JSONParser]

    def get_exception_handler(self):
        return dcsa_error_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        asked = request.headers.get("API-Version", "").strip()
        if asked and asked.split(".")[0] != API_VERSION.split(".")[0]:
            raise exceptions.ValidationError(
                {"API-Version": [f"This endpoint serves version {API_VERSION}; ask for major version 2."]})

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["API-Version"] = API_VERSION
        return response


_TAGS = [f"DCSA Booking {API_VERSION}"]
_VERSION = [
    OpenApiParameter("API-Version", OpenApiTypes.STR, OpenApiParameter.HEADER, description="Major version: 2."),
    OpenApiParameter("API-Version", OpenApiTypes.STR, OpenApiParameter.HEADER, response=True,
                     description=f"The version of DCSA Booking the answer follows: {API_VERSION}."),
]
_ERROR = OpenApiResponse(OpenApiTypes.OBJECT, description="DCSA ErrorResponse")
_REFERENCE = OpenApiParameter("bookingReference", OpenApiTypes.STR, OpenApiParameter.PATH,
                              description="The request's reference (CBR-...) or the booking's (BK-...).")


def _change_schema(operation_id: str, summary: str):
    """PUT and PATCH: a DCSA body, 202 with an empty body, DCSA's errors."""
    return extend_schema(
        operation_id=operation_id, tags=_TAGS, summary=summary, request={"application/json": OpenApiTypes.OBJECT},
        parameters=[_REFERENCE, *_VERSION],
        responses={202: OpenApiResponse(description="Accepted; GET it for the outcome"),
                   **dict.fromkeys((400, 401, 403, 404, 409), _ERROR)})


class BookingsView(BkgView):
    @extend_schema(
        operation_id="dcsa_bkg_booking_create", tags=_TAGS,
        summary="Request a booking (DCSA Booking 2.0.5 POST /v2/bookings, UC1)",
        description="A CreateBooking of DCSA's schema. Processed at once: GET it for its status (CONFIRMED, "
                    "PENDING_UPDATE with feedback, REJECTED), or be told by a DCSA booking-notification "
                    "subscription. The place of receipt (PRE) is a station's UN/LOCODE; a `routingReference` from "
                    "/api/dcsa/cs/v1/point-to-point-routes names the departure and vessel.",
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[*_VERSION, IDEMPOTENCY_KEY],
        responses={202: OpenApiResponse(OpenApiTypes.OBJECT, description="{carrierBookingRequestReference}"),
                   **dict.fromkeys((400, 401, 403, 409), _ERROR)},
    )
    @idempotent
    def post(self, request):
        actor = Actor.from_request(request)
        services.require_shipper(actor)
        payload = _checked("CreateBooking", _body(request))
        created = services.request_create(actor=actor, payload=payload)
        return Response({"carrierBookingRequestReference": created.reference}, status=202)


class BookingView(BkgView):
    @extend_schema(
        operation_id="dcsa_bkg_booking_get", tags=_TAGS,
        summary="A booking (DCSA Booking 2.0.5 GET /v2/bookings/{bookingReference})",
        parameters=[_REFERENCE, OpenApiParameter("amendedContent", OpenApiTypes.BOOL,
                                                 description="true: the latest amendment (404 if none)."),
                    *_VERSION],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="DCSA Booking"),
                   **dict.fromkeys((400, 401, 403, 404), _ERROR)},
    )
    def get(self, request, bookingReference):  # noqa: N803 - DCSA's name for the path parameter
        found = services.request_get(actor=Actor.from_request(request), reference=bookingReference)
        amended = request.query_params.get("amendedContent", "false").strip().lower()
        if amended not in ("true", "false"):
            raise exceptions.ValidationError({"amendedContent": ["true or false."]})
        if amended == "true" and (found.amendment is None or found.amendment_status == AmendmentStatus.CANCELLED):
            raise NotFound()
        return Response(booking_body(found, amended=amended == "true"))

    @_change_schema("dcsa_bkg_booking_update",
                    "Update a request or amend a booking (DCSA Booking 2.0.5 PUT, UC3 and UC7)")
    def put(self, request, bookingReference):  # noqa: N803
        return _changed(request, bookingReference, "UpdateBooking",
                        lambda actor, body: services.request_update(actor=actor, reference=bookingReference,
                                                                    payload=body))

    @_change_schema("dcsa_bkg_booking_cancel", "Cancel a request or a booking (DCSA Booking 2.0.5 PATCH, UC11, UC13)")
    def patch(self, request, bookingReference):  # noqa: N803
        return _changed(request, bookingReference, "CancelBookingRequest",
                        lambda actor, body: services.request_cancel(actor=actor, reference=bookingReference,
                                                                    change=body))


def booking_notification(*, request: BookingRequest, data: dict, subscription_reference: str, event_id: str,
                         time) -> dict:
    """DCSA's BookingNotification: a CloudEvents 1.0 envelope around the change's data."""
    return {
        "specversion": "1.0", "id": event_id, "source": f"{settings.SITE_URL.rstrip('/')}/api/dcsa/bkg/v2",
        "type": "org.dcsa.booking.v2", "time": (time or timezone.now()).isoformat(),
        "datacontenttype": "application/json", "subscriptionReference": subscription_reference, "data": data,
    }
