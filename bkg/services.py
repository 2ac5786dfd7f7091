"""DCSA Booking 2.0.5 requests made into bookings of ours, with the same services, checks and events.

A request is checked against DCSA's own file (bkg/standards/BKG_v2.0.5.yaml) and processed at once, in the
transaction that accepts it: the connection it names is found (a `routingReference` from DCSA Commercial Schedules,
else the vessel and voyage, else the earliest route from the place of receipt to the destination), and
bookings.services.booking_create books and confirms it - the capacity guarantee, the cut-offs, the dangerous
goods and reefer checks of every booking. What we cannot serve at all is REJECTED; what the shipper can fix
(a full departure, a missing weight) is PENDING_UPDATE, with feedback saying what to change. Updates and
amendments are processed the same way (an amendment through booking_amend), and so are cancellations.

Each status change is a SHIPMENT event (document CBR, the request's reference) with a BookingNotice: what the
change tells the shipper, sent by the relay to its DCSA booking-notification subscriptions.
"""

import functools
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from jsonschema import Draft4Validator

from bkg.models import AmendmentStatus, BookingNotice, BookingRequest, CancellationStatus, RequestStatus
from bookings import services as bookings_services
from bookings.models import SIZE_TYPES, Booking, BookingStatus, ChangeKind
from bookings.selectors import routes_between
from guard.openapi_files import OpenApiFile
from intermodal import dcsa
from intermodal.access import Actor
from intermodal.codes import Classifier, DocumentType, EventType
from intermodal.dcsa import local_text
from intermodal.errors import ApplicationError, InvalidInput, NotAllowed, NotFound, StateConflict
from intermodal.events import event_record
from intermodal.models import PartyKind
from stations.models import Departure, Location, Station, VesselCall

API_VERSION = dcsa.VERSIONS["/api/dcsa/bkg/"]
SPEC = OpenApiFile(Path(__file__).resolve().parent / "standards" / "BKG_v2.0.5.yaml")
# Pre-carriage a station offers: rail, or barge (and rail) on the inland waterways.
PRE_CARRIAGE = {"RAIL", "BARGE", "BARGE_RAIL", "RAIL_TRUCK"}
LBS_PER_KG = Decimal("2.20462262")


# --- Checked against DCSA's file -------------------------------------------------------------------------


@functools.cache
def _validator(schema_name: str) -> Draft4Validator:
    return Draft4Validator(SPEC.schema(schema_name))


def _json_path(error) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def payload_problems(schema_name: str, payload) -> dict[str, list[str]]:
    """What in `payload` DCSA's schema does not allow, by JSON path (at most 50)."""
    problems: dict[str, list[str]] = {}
    for error in sorted(_validator(schema_name).iter_errors(payload), key=lambda e: list(map(str, e.path)))[:50]:
        problems.setdefault(_json_path(error), []).append(error.message[:500])
    return problems


# --- Feedback --------------------------------------------------------------------------------------------


def feedback(severity: str, code: str, message: str, path: str = "") -> dict:
    item = {"severity": severity, "code": code, "message": message[:5000]}
    if path:
        item["jsonPath"] = path[:500]
    return item


def _must_change(message: str, path: str = "") -> dict:
    return feedback("ERROR", "PROPERTY_VALUE_MUST_CHANGE", message, path)


def _ignored(message: str, path: str = "") -> dict:
    return feedback("WARN", "PROPERTY_WILL_BE_IGNORED", message, path)


class Unserved(Exception):
    """A request we cannot serve whatever the shipper changes in it: REJECTED."""

    def __init__(self, feedbacks: list[dict]):
        super().__init__(feedbacks[0]["message"])
        self.feedbacks = feedbacks


class NeedsUpdate(Unserved):
    """A request the shipper can put right: PENDING_UPDATE."""


# --- From DCSA's request to a booking of ours ------------------------------------------------------------


@dataclass
class Plan:
    departure: Departure
    vessel_call: VesselCall
    destination: Location
    lines: dict[str, int]
    commodity: str
    cargo_weight_kg: Decimal
    un_number: str = ""
    imdg_class: str = ""
    reefer_setpoint_c: Decimal | None = None
    reefer_ventilation_cbm_h: int | None = None
    notes: list[dict] = field(default_factory=list)


def _location(payload: dict, *codes: str) -> tuple[int, dict] | None:
    for n, item in enumerate(payload.get("shipmentLocations", [])):
        if item.get("locationTypeCode") in codes:
            return n, item.get("location") or {}
    return None


# Beyond these no container travels: a figure outside is a mistake to fix, not a number to compute with.
MAX_CARGO_KG = Decimal("10000000")
REEFER_RANGE_C = (Decimal("-70"), Decimal("40"))


def _kilograms(weight: dict | None, path: str) -> Decimal | None:
    if not weight:
        return None
    try:
        value = Decimal(str(weight["value"]))
    except (InvalidOperation, KeyError, TypeError):
        return None
    if not value.is_finite() or not 0 < value <= MAX_CARGO_KG * 3:
        raise NeedsUpdate([_must_change("A cargo gross weight is more than 0 and at most 10,000 tonnes.",
                                        f"{path}.cargoGrossWeight")])
    return (value / LBS_PER_KG).quantize(Decimal("0.1")) if weight.get("unit") == "LBR" else value


def _cargo(payload: dict, notes: list[dict]) -> dict:
    """Lines, commodity, weight, dangerous goods and reefer settings from the requested equipment."""
    lines: dict[str, int] = {}
    commodities, weight, dangerous, reefer = [], Decimal("0"), None, None
    weight_missing = False
    for n, equipment in enumerate(payload["requestedEquipments"]):
        path = f"$.requestedEquipments[{n}]"
        code = equipment["ISOEquipmentCode"]
        if code not in SIZE_TYPES:
            raise Unserved([_must_change(f"{code} is not a size-type our stations handle "
                                         f"({', '.join(sorted(SIZE_TYPES))}).", f"{path}.ISOEquipmentCode")])
        if equipment["units"] < 1:
            raise NeedsUpdate([_must_change("Ask for at least one container.", f"{path}.units")])
        lines[code] = lines.get(code, 0) + equipment["units"]
        if equipment.get("isShipperOwned"):
            notes.append(_ignored("Shipper-owned containers are booked as slots; the station's empties are not "
                                  "needed, so ask for none.", f"{path}.isShipperOwned"))
        settings = equipment.get("activeReeferSettings")
        if settings:
            reefer = _reefer(settings, f"{path}.activeReeferSettings")
        equipment_weight = _kilograms(equipment.get("cargoGrossWeight"), path)
        for m, commodity in enumerate(equipment.get("commodities") or []):
            commodities.append(commodity["commodityType"])
            if equipment_weight is None:
                # DCSA's weights are grand totals of the cargo, not per container.
                found = _kilograms(commodity.get("cargoGrossWeight"), f"{path}.commodities[{m}]")
                weight += found or 0
                weight_missing |= found is None
            for goods in (commodity.get("outerPackaging") or {}).get("dangerousGoods") or []:
                if dangerous is None:
                    dangerous = (goods.get("UNNumber", ""), goods["imoClass"], f"{path}.commodities[{m}]")
        if equipment_weight is not None:
            weight += equipment_weight
        elif not equipment.get("commodities"):
            weight_missing = True
    if weight > MAX_CARGO_KG:
        raise NeedsUpdate([_must_change("The cargo weighs more than 10,000 tonnes: check the weights.",
                                        "$.requestedEquipments")])
    if weight_missing or weight <= 0:
        raise NeedsUpdate([_must_change("Give the cargo gross weight of each requested equipment (or of each of its "
                                        "commodities).", "$.requestedEquipments")])
    if not commodities:
        raise NeedsUpdate([_must_change("Name the commodity of the requested equipment.", "$.requestedEquipments")])
    cargo = {"lines": lines, "commodity": "; ".join(dict.fromkeys(commodities))[:200],
             "cargo_weight_kg": weight.quantize(Decimal("0.1"))}
    if dangerous:
        un_number, imdg_class, path = dangerous
        if not un_number:
            raise NeedsUpdate([_must_change("Dangerous goods need their UN number.", path)])
        cargo.update(un_number=un_number, imdg_class=imdg_class)
    if reefer:
        cargo.update(reefer_setpoint_c=reefer[0], reefer_ventilation_cbm_h=reefer[1])
    return cargo


def _reefer(settings: dict, path: str) -> tuple[Decimal, int | None]:
    """The set-point in °C and the fresh-air exchange in m³/h."""
    setpoint = Decimal(str(settings["temperatureSetpoint"]))
    if settings.get("temperatureUnit") == "FAH" and setpoint.is_finite() and abs(setpoint) < 1000:
        setpoint = ((setpoint - 32) * 5 / 9).quantize(Decimal("0.1"))
    if not (setpoint.is_finite() and REEFER_RANGE_C[0] <= setpoint <= REEFER_RANGE_C[1]):
        raise NeedsUpdate([_must_change("A reefer set-point is between -70 °C and 40 °C.",
                                        f"{path}.temperatureSetpoint")])
    ventilation = settings.get("airExchangeSetpoint")
    if ventilation is None:
        return setpoint, None
    cubic_metres = Decimal(str(ventilation)) * (Decimal("0.0283168") if settings.get("airExchangeUnit") == "FQH" else 1)
    if not (cubic_metres.is_finite() and 0 <= cubic_metres <= 1000):
        raise NeedsUpdate([_must_change("A reefer's fresh-air exchange is at most 1,000 m³/h.",
                                        f"{path}.airExchangeSetpoint")])
    return setpoint, int(cubic_metres)


def _stations(payload: dict) -> list[Station]:
    found = _location(payload, "PRE")
    if found is None:
        raise NeedsUpdate([_must_change("Give the place of receipt (PRE): the UN/LOCODE of an inland station.",
                                        "$.shipmentLocations")])
    n, location = found
    code = location.get("UNLocationCode", "")
    stations = list(Station.objects.filter(unlocode=code)) if code else []
    if not stations:
        raise Unserved([_must_change(f"No inland station of ours is at {code or 'the place of receipt'}: the place of "
                                     f"receipt is a station's UN/LOCODE (GET /api/v1/stations/).",
                                     f"$.shipmentLocations[{n}].location")])
    return stations


def _destination(payload: dict) -> Location:
    found = _location(payload, "POD", "PDE")
    if found is None:
        raise NeedsUpdate([_must_change("Give the port of discharge (POD) or place of delivery (PDE).",
                                        "$.shipmentLocations")])
    n, location = found
    destination = Location.objects.filter(unlocode=location.get("UNLocationCode", "")).first()
    if destination is None:
        raise Unserved([_must_change(f"No vessel calling at Ningbo-Zhoushan goes to "
                                     f"{location.get('UNLocationCode') or 'that place'}.",
                                     f"$.shipmentLocations[{n}].location")])
    return destination


def _connection(payload: dict, teu: int) -> tuple[Departure, VesselCall, Location]:
    """The departure and vessel call the request names: its routingReference, else its vessel and voyage from its
    place of receipt (the departure leaving on its expected date, else the latest that makes the vessel), else the
    earliest route from its place of receipt with room."""
    routing = payload.get("routingReference")
    if routing:
        departure_ref, _sep, call_ref = routing.partition("/")
        departure = Departure.objects.select_related("service__station", "service__terminal").filter(
            reference=departure_ref).first()
        call = VesselCall.objects.select_related("terminal").filter(reference=call_ref).first()
        if departure is None or call is None:
            raise NeedsUpdate([_must_change(f"{routing!r} is not a route we offer: take one from GET "
                                            f"/api/dcsa/cs/v1/point-to-point-routes.", "$.routingReference")])
        found = _location(payload, "POD", "PDE")
        destination = _destination(payload) if found else call.destinations.first()
        return departure, call, destination
    stations, destination = _stations(payload), _destination(payload)
    routes = routes_between(stations=stations, destination=destination)
    vessel = payload.get("vessel") or {}
    voyage = payload.get("carrierExportVoyageNumber")
    if vessel.get("vesselIMONumber") or voyage:
        routes = [(c, d) for c, d in routes
                  if (not vessel.get("vesselIMONumber") or c.imo_number == vessel["vesselIMONumber"])
                  and (not voyage or c.voyage == voyage)]
    leaving = payload.get("expectedDepartureFromPlaceOfReceiptDate")
    if leaving:  # the station's local date
        routes = [(c, d) for c, d in routes
                  if local_text(d.planned_departure, d.service.station.timezone)[:10] == leaving]
    sailing = payload.get("expectedDepartureDate")
    if sailing:  # the port's
        routes = [(c, d) for c, d in routes if local_text(c.etd)[:10] >= sailing]
    roomy = [(c, d) for c, d in routes if d.teu_free >= teu]
    if not roomy:
        raise NeedsUpdate([_must_change(
            "No departure from the place of receipt to that vessel (or destination) has room now: choose another "
            "from GET /api/dcsa/cs/v1/point-to-point-routes.",
            "$.routingReference" if routing else "$.vessel")])
    if vessel.get("vesselIMONumber") or voyage:
        # The vessel is fixed: the last train that makes it, so the containers wait least at the terminal.
        call, departure = max(roomy, key=lambda pair: pair[1].planned_departure)
    else:
        call, departure = roomy[0]
    return departure, call, destination


def plan_from(payload: dict) -> Plan:
    notes: list[dict] = []
    if payload.get("receiptTypeAtOrigin") != "CY" or payload.get("deliveryTypeAtDestination") != "CY":
        raise Unserved([_must_change("Our stations receive and the vessels deliver at the container yard: CY.",
                                     "$.receiptTypeAtOrigin")])
    if payload.get("cargoMovementTypeAtOrigin") != "FCL":
        raise Unserved([_must_change("Only full container loads (FCL) travel by our trains and barges.",
                                     "$.cargoMovementTypeAtOrigin")])
    mode = payload.get("requestedPreCarriageModeOfTransport")
    if mode and mode not in PRE_CARRIAGE:
        raise Unserved([_must_change(f"Pre-carriage from an inland station is by rail or barge, not {mode}.",
                                     "$.requestedPreCarriageModeOfTransport")])
    cargo = _cargo(payload, notes)
    teu = sum(SIZE_TYPES[code].teu * units for code, units in cargo["lines"].items())
    departure, call, destination = _connection(payload, teu)
    return Plan(departure=departure, vessel_call=call, destination=destination, notes=notes, **cargo)


# --- The request's life ----------------------------------------------------------------------------------

# The event code of each change (document CBR): DCSA T&T's shipment codes.
_CODES = {
    RequestStatus.RECEIVED: "RECE", RequestStatus.UPDATE_RECEIVED: "RECE", RequestStatus.PENDING_UPDATE: "PENU",
    RequestStatus.CONFIRMED: "CONF", RequestStatus.REJECTED: "REJE", RequestStatus.CANCELLED: "CANC",
    RequestStatus.COMPLETED: "CMPL", RequestStatus.DECLINED: "REJE",
    AmendmentStatus.RECEIVED: "RECE", AmendmentStatus.CONFIRMED: "CONF", AmendmentStatus.DECLINED: "REJE",
    AmendmentStatus.CANCELLED: "CANC", CancellationStatus.RECEIVED: "RECE", CancellationStatus.CONFIRMED: "CANC",
    CancellationStatus.DECLINED: "REJE",
}


def dcsa_status(request: BookingRequest) -> str:
    """DCSA's bookingStatus: the request's own before it is a booking; then what the booking says."""
    booking = request.booking
    if booking is None:
        return request.status
    if booking.status == BookingStatus.CANCELLED:
        # UC10: cancelled by the platform (not by the shipper) is the carrier's decline.
        by = (booking.changes.filter(kind=ChangeKind.CANCELLED).order_by("-id")
              .values_list("organisation_id", flat=True).first())
        return RequestStatus.CANCELLED if by in (None, request.shipper_id) else RequestStatus.DECLINED
    if booking.status == BookingStatus.SAILED:
        return RequestStatus.COMPLETED
    return RequestStatus.CONFIRMED


def notification_data(request: BookingRequest) -> dict:
    """DCSA's BookingNotificationData of the request as it stands."""
    data = {"bookingStatus": dcsa_status(request), "carrierBookingRequestReference": request.reference}
    if request.booking_id:
        data["carrierBookingReference"] = request.booking.reference
    if request.amendment_status:
        data["amendedBookingStatus"] = request.amendment_status
    if request.cancellation_status:
        data["bookingCancellationStatus"] = request.cancellation_status
    if request.feedbacks:
        data["feedbacks"] = request.feedbacks
    return data


def _changed(request: BookingRequest, actor: Actor, what: str, reason: str = "") -> None:
    """Save the request and record the change: its event (and outbox row) and the notice the shipper is sent."""
    request.save()
    event = event_record(
        event_type=EventType.SHIPMENT, event_code=_CODES[what], classifier=Classifier.ACTUAL,
        organisation=actor.organisation, user=actor.user, document_type=DocumentType.CBR,
        document_reference=request.reference, booking_reference=request.booking.reference if request.booking else "",
        reason=reason[:250], details={"dcsa": what},
    )
    BookingNotice.objects.create(request=request, event=event, data=notification_data(request))


def _reference() -> str:
    return f"CBR-{timezone.now():%Y}-{uuid.uuid4().hex[:10].upper()}"


def _feedbacks_of(error: ApplicationError) -> list[dict]:
    errors = getattr(error, "errors", None) or {}
    if errors:
        return [_must_change(str(message), f"$.{name}" if name != "__all__" else "")
                for name, messages in errors.items() for message in messages]
    return [_must_change(str(error))]


def _book(actor: Actor, request: BookingRequest) -> None:
    """Make the request a confirmed booking, or say why not (REJECTED, PENDING_UPDATE)."""
    try:
        plan = plan_from(request.payload)
        with transaction.atomic():
            booking = bookings_services.booking_create(
                actor=actor, departure=plan.departure, vessel_call=plan.vessel_call, destination=plan.destination,
                lines=plan.lines, commodity=plan.commodity, cargo_weight_kg=plan.cargo_weight_kg,
                un_number=plan.un_number, imdg_class=plan.imdg_class, reefer_setpoint_c=plan.reefer_setpoint_c,
                reefer_ventilation_cbm_h=plan.reefer_ventilation_cbm_h, confirm=True)
    except NeedsUpdate as problem:
        request.status, request.feedbacks = RequestStatus.PENDING_UPDATE, problem.feedbacks
    except Unserved as problem:
        request.status, request.feedbacks = RequestStatus.REJECTED, problem.feedbacks
    except (InvalidInput, StateConflict) as problem:
        request.status, request.feedbacks = RequestStatus.PENDING_UPDATE, _feedbacks_of(problem)
    else:
        request.booking, request.status, request.feedbacks = booking, RequestStatus.CONFIRMED, plan.notes
    _changed(request, actor, request.status)


def require_shipper(actor: Actor) -> None:
    if actor.kind != PartyKind.ENTERPRISE:
        raise NotAllowed("Booking requests are made by shippers and forwarders (enterprises).", code="not_a_shipper")


def request_create(*, actor: Actor, payload: dict) -> BookingRequest:
    """UC1: a booking request, RECEIVED, then processed at once (UC5 confirmed, UC2 pending update, UC4 rejected)."""
    require_shipper(actor)
    with transaction.atomic():
        request = BookingRequest(reference=_reference(), shipper=actor.organisation, payload=payload)
        _changed(request, actor, RequestStatus.RECEIVED)
        _book(actor, request)
    return request


def request_get(*, actor: Actor, reference: str, for_update: bool = False) -> BookingRequest:
    """By the request's reference or its booking's; another organisation's request does not exist for the caller."""
    requests = BookingRequest.objects.select_related("booking__departure__service__station",
                                                     "booking__departure__service__terminal",
                                                     "booking__vessel_call__terminal", "booking__destination")
    if actor.kind != PartyKind.PLATFORM_ADMIN:
        requests = requests.filter(shipper=actor.organisation)
    if for_update:
        requests = requests.select_for_update(of=("self",))
    found = requests.filter(Q(reference=reference) | Q(booking__reference=reference)).first()
    if found is None:
        raise NotFound()
    return found


_UPDATABLE = (RequestStatus.RECEIVED, RequestStatus.PENDING_UPDATE, RequestStatus.UPDATE_RECEIVED)


def request_update(*, actor: Actor, reference: str, payload: dict) -> BookingRequest:
    """UC3 (before confirmation): the new request replaces the old and is processed again. UC7 (after): an
    amendment, processed at once through booking_amend (UC8: AMENDMENT_CONFIRMED, or AMENDMENT_DECLINED)."""
    with transaction.atomic():
        request = request_get(actor=actor, reference=reference, for_update=True)
        status = dcsa_status(request)
        if status in _UPDATABLE:
            request.payload, request.status = payload, RequestStatus.UPDATE_RECEIVED
            _changed(request, actor, RequestStatus.UPDATE_RECEIVED)
            _book(actor, request)
        elif status == RequestStatus.CONFIRMED:
            request.amendment, request.amendment_status, request.cancellation_status = (
                payload, AmendmentStatus.RECEIVED, "")
            _changed(request, actor, AmendmentStatus.RECEIVED)
            _amend(actor, request)
        else:
            raise StateConflict(f"The booking is {status}: it can no longer be updated or amended.",
                                code="not_updatable")
    return request


def _amend(actor: Actor, request: BookingRequest) -> None:
    booking = Booking.objects.select_for_update().get(pk=request.booking_id)
    try:
        plan = plan_from(request.amendment)
        notes = list(plan.notes)
        if plan.commodity != booking.commodity or plan.cargo_weight_kg != booking.cargo_weight_kg:
            notes.append(_ignored("The commodity and weight of a confirmed booking are declared with its containers "
                                  "and the customs declaration, not amended here.", "$.requestedEquipments"))
        with transaction.atomic():
            request.booking = bookings_services.booking_amend(
                actor=actor, booking=booking, lines=plan.lines, departure=plan.departure,
                vessel_call=plan.vessel_call, destination=plan.destination, reason="DCSA amendment")
    except Unserved as problem:
        request.amendment_status, request.feedbacks = AmendmentStatus.DECLINED, problem.feedbacks
    except (InvalidInput, StateConflict) as problem:
        request.amendment_status, request.feedbacks = AmendmentStatus.DECLINED, _feedbacks_of(problem)
    else:
        request.payload, request.feedbacks = request.amendment, notes
        request.amendment_status = AmendmentStatus.CONFIRMED
    _changed(request, actor, request.amendment_status)


def request_cancel(*, actor: Actor, reference: str, change: dict) -> BookingRequest:
    """UC11: cancel a request not yet confirmed. UC13 and UC14: a confirmed booking's cancellation, asked for and
    processed at once through booking_cancel (CANCELLATION_CONFIRMED; CANCELLATION_DECLINED once containers are
    loaded). UC9 (cancel an amendment): amendments are processed when received, so none is ever waiting - DCSA's
    404 for an amendment that is not AMENDMENT_RECEIVED."""
    reason = change.get("reason", "")
    with transaction.atomic():
        request = request_get(actor=actor, reference=reference, for_update=True)
        status = dcsa_status(request)
        if "bookingStatus" in change:
            if change["bookingStatus"] != "CANCELLED":
                raise InvalidInput(errors={"bookingStatus": ["The only value to set is CANCELLED."]})
            if status not in _UPDATABLE:
                raise StateConflict(f"The booking is {status}: only a request not yet confirmed is cancelled this "
                                    f"way; ask to cancel a confirmed one with bookingCancellationStatus.",
                                    code="not_cancellable")
            request.status, request.feedbacks = RequestStatus.CANCELLED, []
            _changed(request, actor, RequestStatus.CANCELLED, reason)
        elif "amendedBookingStatus" in change:
            if change["amendedBookingStatus"] != AmendmentStatus.CANCELLED:
                raise InvalidInput(errors={"amendedBookingStatus": ["The only value to set is AMENDMENT_CANCELLED."]})
            if request.amendment_status != AmendmentStatus.RECEIVED:
                raise NotFound()
        elif "bookingCancellationStatus" in change:
            if change["bookingCancellationStatus"] != CancellationStatus.RECEIVED:
                raise InvalidInput(errors={"bookingCancellationStatus": [
                    "The only value to set is CANCELLATION_RECEIVED."]})
            if status not in (RequestStatus.CONFIRMED, RequestStatus.PENDING_AMENDMENT):
                raise StateConflict(f"The booking is {status}: only a confirmed booking's cancellation is asked for "
                                    f"this way.", code="not_cancellable")
            request.cancellation_status = CancellationStatus.RECEIVED
            _changed(request, actor, CancellationStatus.RECEIVED, reason)
            booking = Booking.objects.select_for_update().get(pk=request.booking_id)
            try:
                with transaction.atomic():
                    request.booking = bookings_services.booking_cancel(actor=actor, booking=booking,
                                                                       reason=reason or "Cancelled by DCSA request")
            except StateConflict as problem:
                request.cancellation_status, request.feedbacks = CancellationStatus.DECLINED, _feedbacks_of(problem)
            else:
                request.cancellation_status, request.feedbacks = CancellationStatus.CONFIRMED, []
            _changed(request, actor, request.cancellation_status, reason)
        else:
            raise InvalidInput(errors={"bookingStatus": [
                "Set bookingStatus, amendedBookingStatus or bookingCancellationStatus."]})
    return request
