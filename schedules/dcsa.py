"""DCSA Commercial Schedules 1.0.3 for partner systems, under /api/dcsa/cs/v1/.

- GET /point-to-point-routes: the connection search in DCSA's words. From an inland station (placeOfReceipt, its
  city's UN/LOCODE) by rail or barge to a Ningbo-Zhoushan terminal, then by the vessel to the destination port
  (placeOfDelivery): a route per departure and vessel call that the booking rules would accept now (open at the
  station, room for a container, arriving before the vessel's CY cut-off less the terminal's handling buffer).
- GET /port-schedules: for a terminal's port (CNNGB, CNZOS, or a terminal area's code) its vessel calls; for a
  station's city its trains and barges (DCSA's Schedule carries no train: they go out as schedules without a
  vessel, isDummyVessel true, the service's short code as carrierServiceCode and the departure's reference as
  voyage number).
- GET /vessel-schedules: the Ningbo-Zhoushan calls we know, by carrier service and vessel.

Schedules are network data, the same for every organisation: any caller with schedules:read sees them. Errors are
DCSA's ErrorResponse, with errorCode 7000 + the HTTP status (7400 a bad query). What DCSA's model asks and we do
not hold is documented in docs/INTEROPERABILITY.md: no SMDG facility codes, no universal service or voyage
references, ocean arrival at the destination estimated from the port's typical sea transit (Location).
"""

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings.selectors import routes_between
from databases.replicas import ReplicaReadsMixin
from intermodal import dcsa
from intermodal.api import NON_FIELD
from intermodal.dcsa import SCAC_PROVIDER, dcsa_error_handler, limit_param
from intermodal.dcsa import local_text as _local
from intermodal.dcsa import utc_text as _utc
from intermodal.models import Scope
from stations.models import UNLOCODE_RE, Departure, DepartureStatus, Location, Mode, Station, Terminal, VesselCall

API_VERSION = dcsa.VERSIONS["/api/dcsa/cs/"]
DEFAULT_LIMIT = 100
# The spec sets no maximum; a larger `limit` is served as this many, the rest follows with Next-Page-Cursor.
MAX_LIMIT = 1000
CURSOR_SALT = "schedules.dcsa.cursor"
# A vessel call the port published without its carrier service: DCSA requires a service code and name.
NO_SERVICE_CODE = "UNPUBLISHED"
NO_SERVICE_NAME = "Service not published"
# How far a port schedule reaches from its `date`.
PORT_SCHEDULE_DAYS = 28
# vessel-schedules without startDate / endDate: DCSA's defaults.
VESSEL_SCHEDULE_BEFORE = timedelta(days=91)
VESSEL_SCHEDULE_AFTER = timedelta(days=183)
RESPONSE_SCOPES = ("FULL_VOYAGE", "MATCHED_CALLS")
# Dates outside these are no schedule's (and 0001-01-01 less a time zone offset is no instant at all).
FIRST_DATE, LAST_DATE = date(2000, 1, 1), date(2999, 12, 31)
# Store door and CFS are not what an inland station offers: a request for them finds no route.
SERVICE_TYPES = ("CY", "SD", "CFS")
OFFERED_SERVICE_TYPE = "CY"
CARGO_TYPES = ("DRY", "REEFER")


def _invalid(parameter: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({parameter: [message]})


# --- Query parameters ------------------------------------------------------------------------------------


def _one(params, name: str) -> str | None:
    values = [value.strip() for value in params.getlist(name)]
    if not values:
        return None
    if len(values) > 1:
        raise _invalid(name, "Send this parameter once.")
    if "\x00" in values[0]:
        raise _invalid(name, "Null characters are not allowed.")
    return values[0]


def _unlocode(params, name: str, *, required: bool) -> str | None:
    value = _one(params, name)
    if not value:
        if required:
            raise _invalid(name, "Required: a UN/LOCODE such as CNYIU.")
        return None
    if not re.fullmatch(UNLOCODE_RE, value):
        raise _invalid(name, f"{value!r} is not a UN/LOCODE (two letters of a country, three letters or digits 2-9).")
    return value


def _date(params, name: str, *, required: bool = False) -> date | None:
    value = _one(params, name)
    if not value:
        if required:
            raise _invalid(name, "Required: a date such as 2026-04-01.")
        return None
    try:
        parsed = parse_date(value) if len(value) == 10 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise _invalid(name, f"{value!r} is not a date; send e.g. 2026-04-01.")
    if not FIRST_DATE <= parsed <= LAST_DATE:
        raise _invalid(name, f"{value!r} is out of range: send a date from {FIRST_DATE} to {LAST_DATE}.")
    return parsed


def _choice(params, name: str, allowed: tuple[str, ...], default: str | None = None) -> str | None:
    value = _one(params, name)
    if not value:
        return default
    if value not in allowed:
        raise _invalid(name, f"{value!r} is not one of {', '.join(allowed)}.")
    return value


def _text(params, name: str, max_length: int) -> str | None:
    value = _one(params, name)
    if not value:
        return None
    if len(value) > max_length:
        raise _invalid(name, f"{value[:20]!r}... is longer than {max_length} characters.")
    return value


def _window(params, start: str, end: str) -> tuple[date | None, date | None]:
    first, last = _date(params, start), _date(params, end)
    if first and last and last < first:
        raise _invalid(end, f"{end} is before {start}.")
    return first, last


@dataclass
class Page:
    items: list
    next_cursor: str | None
    # Where the page starts in the whole answer (0 for the first page).
    start: int = 0


def _paged(params, filters: dict, keyed: list[tuple[list, dict]]) -> Page:
    """`limit` items after the cursor's key. The cursor is signed and carries the filters: a request with one must
    send the same filters (DCSA: they may not be altered)."""
    limit = limit_param(_one(params, "limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    after = None
    raw = _one(params, "cursor")
    if raw:
        try:
            payload = signing.loads(raw, salt=CURSOR_SALT)
            carried, after = payload["f"], payload["k"]
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise _invalid("cursor", "The cursor is not one this server gave out.") from None
        if carried != filters:
            raise _invalid("cursor", "The cursor belongs to other filters: send the filters of the first request.")
    start = next((n for n, (key, _item) in enumerate(keyed) if after is None or key > after), len(keyed))
    shown = keyed[start:start + limit]
    next_cursor = None
    if len(keyed) > start + limit:
        next_cursor = signing.dumps({"f": filters, "k": shown[-1][0]}, salt=CURSOR_SALT, compress=True)
    return Page(items=[item for _key, item in shown], next_cursor=next_cursor, start=start)


# --- DCSA's objects --------------------------------------------------------------------------------------




def _station_location(station: Station) -> dict:
    return {"locationName": station.name[:100], "UNLocationCode": station.unlocode}


def _terminal_location(terminal: Terminal) -> dict:
    # Our terminal codes are not SMDG codes: the port's UN/LOCODE and the terminal's name.
    return {"locationName": terminal.name[:100], "facilityName": terminal.name[:100],
            "UNLocationCode": terminal.port_unlocode}


def _vessel(call: VesselCall) -> dict:
    vessel = {"vesselIMONumber": call.imo_number, "name": call.vessel_name[:50].strip()}
    if call.carrier_scac:
        vessel["operatorCarrierCode"] = call.carrier_scac
        vessel["operatorCarrierCodeListProvider"] = SCAC_PROVIDER
    return vessel


def _service_of(call: VesselCall) -> tuple[str, str]:
    return (call.service_code.strip() or NO_SERVICE_CODE, call.service_name.strip() or NO_SERVICE_NAME)


def _vessel_partner(call: VesselCall) -> dict:
    code, name = _service_of(call)
    partner = {"carrierServiceName": name, "carrierServiceCode": code,
               "carrierImportVoyageNumber": call.voyage, "carrierExportVoyageNumber": call.voyage}
    if call.carrier_scac:
        partner = {"carrierCode": call.carrier_scac, "carrierCodeListProvider": SCAC_PROVIDER, **partner}
    return partner


def _rail_service_name(departure: Departure) -> str:
    service = departure.service
    return f"{service.station.name} - {service.terminal.name}"[:50].strip()


def _cutoff(code: str, moment: datetime | None, zone: str | None = None) -> list[dict]:
    return [] if moment is None else [{"cutOffDateTimeCode": code, "cutOffDateTime": _local(moment, zone)}]


def _vessel_cutoffs(call: VesselCall) -> list[dict]:
    """The vessel call's cut-offs: port (CY), VGM, documentation (shipping instructions), customs acceptance and
    dangerous goods."""
    return [*_cutoff("PCO", call.cy_cutoff), *_cutoff("VCO", call.vgm_cutoff), *_cutoff("DCO", call.si_cutoff),
            *_cutoff("CUA", call.customs_cutoff), *_cutoff("DGC", call.dg_cutoff)]


def _timestamps(*, arrival: tuple[datetime | None, datetime | None, datetime | None] | None,
                departure: tuple[datetime | None, datetime | None, datetime | None] | None,
                zone: str | None = None) -> list[dict]:
    """ARRI and DEPA stamps, each (planned, estimated, actual) as known."""
    stamps = []
    for code, moments in (("ARRI", arrival), ("DEPA", departure)):
        for classifier, moment in zip(("PLN", "EST", "ACT"), moments or (), strict=False):
            if moment is not None:
                stamps.append({"eventTypeCode": code, "eventClassifierCode": classifier,
                               "eventDateTime": _local(moment, zone)})
    return stamps


def _call_timestamps(call: VesselCall) -> list[dict]:
    # The port publishes estimates (ETA, ETD); a sailed call has its actual departure too.
    return _timestamps(arrival=(None, call.eta, None), departure=(None, call.etd, call.actual_departure))


# --- GET /point-to-point-routes --------------------------------------------------------------------------


def _sea_arrival(call: VesselCall, destination: Location) -> datetime:
    return call.etd + timedelta(days=destination.sea_transit_days)


def _route(number: int, call: VesselCall, departure: Departure, destination: Location) -> dict:
    station, terminal = departure.service.station, call.terminal
    arrival = _sea_arrival(call, destination)
    delivery = {"facilityTypeCode": "POTE",
                "location": {"locationName": destination.name[:100], "UNLocationCode": destination.unlocode},
                # Ports abroad: we hold no time zone for them, so UTC (the offset makes it unambiguous).
                "dateTime": _utc(arrival)}
    if departure.service.mode == Mode.BARGE:
        pre_carriage = {"modeOfTransport": "BARGE", "servicePartners": [
            {"carrierServiceName": _rail_service_name(departure),
             "carrierServiceCode": departure.service.short_code}]}
    else:
        pre_carriage = {"modeOfTransport": "RAIL"}
    legs = [
        {
            "sequenceNumber": 1,
            "transport": pre_carriage,
            "departure": {"transportCallReference": departure.reference, "facilityTypeCode": "INTE",
                          "location": _station_location(station),
                          "dateTime": _local(departure.expected_departure, station.timezone)},
            "arrival": {"facilityTypeCode": "POTE", "location": _terminal_location(terminal),
                        "dateTime": _local(departure.expected_arrival)},
        },
        {
            "sequenceNumber": 2,
            "transport": {"modeOfTransport": "VESSEL", "servicePartners": [_vessel_partner(call)],
                          "vessel": _vessel(call)},
            "departure": {"transportCallReference": call.reference, "facilityTypeCode": "POTE",
                          "location": _terminal_location(terminal), "dateTime": _local(call.etd)},
            "arrival": {**delivery},
        },
    ]
    return {
        "placeOfReceipt": {"facilityTypeCode": "INTE", "location": _station_location(station),
                           "dateTime": _local(departure.closing_time, station.timezone)},
        "placeOfDelivery": delivery,
        "receiptTypeAtOrigin": OFFERED_SERVICE_TYPE,
        "deliveryTypeAtDestination": OFFERED_SERVICE_TYPE,
        # FCO: the last moment a laden container may reach the station for this departure.
        "cutOffTimes": [*_cutoff("FCO", departure.closing_time, station.timezone), *_vessel_cutoffs(call)],
        "solutionNumber": number,
        # What a DCSA booking (and our own API) takes to book this route: the departure and the vessel call.
        "routingReference": f"{departure.reference}/{call.reference}",
        "transitTime": math.ceil((arrival - departure.expected_departure).total_seconds() / 86400),
        "legs": legs,
    }


def point_to_point(params) -> Page:
    receipt = _unlocode(params, "placeOfReceipt", required=True)
    delivery = _unlocode(params, "placeOfDelivery", required=True)
    departing = _window(params, "departureStartDate", "departureEndDate")
    arriving = _window(params, "arrivalStartDate", "arrivalEndDate")
    transhipments = _one(params, "maxTranshipment")
    if transhipments and not (transhipments.isascii() and transhipments.isdigit()):
        raise _invalid("maxTranshipment", f"{transhipments!r} is not a whole number of 0 or more.")
    receipt_type = _choice(params, "receiptTypeAtOrigin", SERVICE_TYPES, OFFERED_SERVICE_TYPE)
    delivery_type = _choice(params, "deliveryTypeAtDestination", SERVICE_TYPES, OFFERED_SERVICE_TYPE)
    cargo = _choice(params, "cargoType", CARGO_TYPES, "DRY")
    filters = {"r": receipt, "d": delivery, "dw": [str(d) if d else None for d in departing],
               "aw": [str(d) if d else None for d in arriving], "rt": receipt_type, "dt": delivery_type, "c": cargo}

    stations = list(Station.objects.filter(unlocode=receipt))
    destination = Location.objects.filter(unlocode=delivery, sea_transit_days__isnull=False).first()
    keyed = []
    # Every route is direct (no vessel-to-vessel transhipment), so any maxTranshipment allows them; the stations
    # take dry and reefer containers alike.
    if stations and destination is not None and receipt_type == delivery_type == OFFERED_SERVICE_TYPE:
        for call, departure in routes_between(stations=stations, destination=destination):
            zone = ZoneInfo(departure.service.station.timezone)
            if not _within(departure.expected_departure.astimezone(zone).date(), departing):
                continue
            if not _within(_sea_arrival(call, destination).astimezone(UTC).date(), arriving):
                continue
            keyed.append(([_utc(call.etd), call.reference, _utc(departure.planned_departure), departure.reference],
                          (call, departure)))
    page = _paged(params, filters, keyed)
    # Solutions numbered through the whole answer, not per page.
    page.items = [_route(page.start + n, call, departure, destination)
                  for n, (call, departure) in enumerate(page.items, 1)]
    return page


def _within(day: date, window: tuple[date | None, date | None]) -> bool:
    first, last = window
    return (first is None or day >= first) and (last is None or day <= last)


# --- GET /port-schedules ---------------------------------------------------------------------------------


def _day_start(day: date, zone: str | None = None) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone or settings.TIME_ZONE))


def _terminal_schedule(terminal: Terminal, calls: list[VesselCall]) -> dict:
    return {
        "location": _terminal_location(terminal),
        "vesselSchedules": [
            {"servicePartners": [_vessel_partner(call)], "vessel": _vessel(call), "isDummyVessel": False,
             "timestamps": _call_timestamps(call), "cutOffTimes": _vessel_cutoffs(call)}
            for call in calls
        ],
    }


def _station_schedule(station: Station, departures: list[Departure]) -> dict:
    schedules = []
    for departure in departures:
        service = departure.service
        actual = departure.actual_departure
        cancelled = departure.status == DepartureStatus.CANCELLED
        schedules.append({
            "servicePartners": [{"carrierServiceName": _rail_service_name(departure),
                                 "carrierServiceCode": service.short_code,
                                 "carrierImportVoyageNumber": departure.reference,
                                 "carrierExportVoyageNumber": departure.reference}],
            # A train or a barge: DCSA's Schedule is a vessel's, and this one has none.
            "isDummyVessel": True,
            "timestamps": _timestamps(
                arrival=None, zone=station.timezone,
                departure=(departure.planned_departure, None if cancelled else departure.estimated_departure,
                           actual)),
            "cutOffTimes": _cutoff("FCO", departure.closing_time, station.timezone),
        })
    return {"location": _station_location(station), "vesselSchedules": schedules}


def port_schedules(params) -> Page:
    code = _unlocode(params, "UNLocationCode", required=True)
    day = _date(params, "date", required=True)
    filters = {"u": code, "d": str(day)}
    keyed = []
    terminals = list(Terminal.objects.filter(Q(port_unlocode=code) | Q(unlocode=code)).order_by("code"))
    if terminals:
        since = _day_start(day)
        calls = defaultdict(list)
        for call in (VesselCall.objects.filter(terminal__in=terminals, etd__gte=since,
                                               eta__lt=since + timedelta(days=PORT_SCHEDULE_DAYS))
                     .order_by("eta", "reference")):
            calls[call.terminal_id].append(call)
        keyed += [(["T", terminal.code], (terminal, calls[terminal.pk])) for terminal in terminals]
    stations = list(Station.objects.filter(unlocode=code).order_by("code"))
    if stations:
        departures = defaultdict(list)
        since = _day_start(day, stations[0].timezone)
        for departure in (Departure.objects.select_related("service__station", "service__terminal")
                          .filter(service__station__in=stations, planned_departure__gte=since,
                                  planned_departure__lt=since + timedelta(days=PORT_SCHEDULE_DAYS))
                          .order_by("planned_departure", "reference")):
            departures[departure.service.station_id].append(departure)
        keyed += [(["S", station.code], (station, departures[station.pk])) for station in stations]
    page = _paged(params, filters, keyed)
    page.items = [_terminal_schedule(*item) if isinstance(item[0], Terminal) else _station_schedule(*item)
                  for item in page.items]
    return page


# --- GET /vessel-schedules -------------------------------------------------------------------------------

# Identifiers DCSA defines that nobody issues for our calls: a filter on them matches none.
NEVER_MATCHING = ("universalServiceReference", "universalVoyageReference", "facilitySMDGCode")
VESSEL_FILTERS = {"vesselIMONumber": 8, "vesselName": 50, "carrierServiceCode": 11, "universalServiceReference": 8,
                  "carrierVoyageNumber": 50, "universalVoyageReference": 5, "facilitySMDGCode": 6,
                  "vesselOperatorCarrierCode": 10}


def _transport_call(call: VesselCall) -> dict:
    return {"transportCallReference": call.reference, "carrierImportVoyageNumber": call.voyage,
            "carrierExportVoyageNumber": call.voyage, "location": _terminal_location(call.terminal),
            "timestamps": _call_timestamps(call), "cutOffTimes": _vessel_cutoffs(call)}


def _call_filter(given: dict[str, str], location: str | None) -> Q:
    matching = Q()
    if "vesselIMONumber" in given:
        matching &= Q(imo_number=given["vesselIMONumber"])
    if "vesselName" in given:
        matching &= Q(vessel_name__iexact=given["vesselName"])
    if "carrierServiceCode" in given:
        code = given["carrierServiceCode"]
        matching &= Q(service_code="") if code == NO_SERVICE_CODE else Q(service_code=code)
    if "carrierVoyageNumber" in given:
        matching &= Q(voyage=given["carrierVoyageNumber"])
    if "vesselOperatorCarrierCode" in given:
        matching &= Q(carrier_scac=given["vesselOperatorCarrierCode"])
    if location:
        matching &= Q(terminal__port_unlocode=location) | Q(terminal__unlocode=location)
    return matching


def vessel_schedules(params) -> Page:
    given = {name: value for name, length in VESSEL_FILTERS.items() if (value := _text(params, name, length))}
    imo = given.get("vesselIMONumber")
    if imo is not None and not (imo.isascii() and imo.isdigit() and len(imo) >= 7):
        raise _invalid("vesselIMONumber", f"{imo!r} is not an IMO number (7 digits).")
    location = _unlocode(params, "UNLocationCode", required=False)
    if not given and not location:
        raise _invalid(NON_FIELD, "Give at least one filter besides startDate and endDate: a vessel, a service, a "
                                  "voyage, a carrier or a UN/LOCODE.")
    first, last = _window(params, "startDate", "endDate")
    scope = _choice(params, "responseScope", RESPONSE_SCOPES, "FULL_VOYAGE")
    filters = {"g": given, "u": location, "w": [str(first) if first else None, str(last) if last else None],
               "s": scope}
    now = timezone.now()
    start = _day_start(first) if first else now - VESSEL_SCHEDULE_BEFORE
    end = _day_start(last) + timedelta(days=1) if last else now + VESSEL_SCHEDULE_AFTER
    keyed = []
    if not set(given) & set(NEVER_MATCHING):
        in_period = Q(eta__gte=start, eta__lt=end) | Q(etd__gte=start, etd__lt=end)
        matched = list(VesselCall.objects.select_related("terminal")
                       .filter(_call_filter(given, location), in_period))
        calls = matched
        if scope == "FULL_VOYAGE" and matched:
            # The whole voyage of each matched call: its calls at the other terminals of the port too.
            voyages = Q()
            for imo, voyage in {(call.imo_number, call.voyage) for call in matched}:
                voyages |= Q(imo_number=imo, voyage=voyage)
            calls = list(VesselCall.objects.select_related("terminal").filter(voyages))
        services: dict[tuple[str, str], dict[str, list[VesselCall]]] = defaultdict(lambda: defaultdict(list))
        for call in sorted(calls, key=lambda c: (c.eta, c.reference)):
            services[_service_of(call)][call.imo_number].append(call)
        for (code, name), vessels in sorted(services.items()):
            keyed.append(([code, name], {
                "carrierServiceName": name,
                "carrierServiceCode": code,
                "vesselSchedules": [
                    {"vessel": _vessel(calls_of[0]), "isDummyVessel": False,
                     "transportCalls": [_transport_call(call) for call in calls_of]}
                    for calls_of in vessels.values()
                ],
            }))
    return _paged(params, filters, keyed)


# --- Views -----------------------------------------------------------------------------------------------


class CsView(ReplicaReadsMixin, APIView):
    """DCSA's error shape and API-Version header on every answer. Published schedules, as in our own API: anyone
    may read them; an API key needs schedules:read."""

    public_read = True
    required_scopes = {"*": Scope.SCHEDULES_READ}
    answer = None

    def get_exception_handler(self):
        return dcsa_error_handler

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        asked = request.headers.get("API-Version", "").strip()
        if asked and asked.split(".")[0] != API_VERSION.split(".")[0]:
            raise _invalid("API-Version", f"This endpoint serves version {API_VERSION}; ask for major version 1.")

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["API-Version"] = API_VERSION
        return response

    def get(self, request):
        page = type(self).answer(request.query_params)
        response = Response(page.items)
        if page.next_cursor:
            response["Next-Page-Cursor"] = page.next_cursor
        return response


_PAGING = [
    OpenApiParameter("limit", {"type": "integer", "minimum": 1},
                     description=f"Items of the answer's array per page, {DEFAULT_LIMIT} by default; more than "
                                 f"{MAX_LIMIT} is served as {MAX_LIMIT}."),
    OpenApiParameter("cursor", OpenApiTypes.STR,
                     description="The Next-Page-Cursor of the previous page; send the same filters with it."),
    OpenApiParameter("API-Version", OpenApiTypes.STR, OpenApiParameter.HEADER, description="Major version: 1."),
    OpenApiParameter("API-Version", OpenApiTypes.STR, OpenApiParameter.HEADER, response=True,
                     description=f"The version of DCSA Commercial Schedules the answer follows: {API_VERSION}."),
    OpenApiParameter("Next-Page-Cursor", OpenApiTypes.STR, OpenApiParameter.HEADER, response=[200],
                     description="The next page's cursor; absent on the last page."),
]
_ERRORS = {code: OpenApiResponse(OpenApiTypes.OBJECT, description="DCSA ErrorResponse")
           for code in (400, 401, 403)}
_ARRAY = build_array_type(build_basic_type(OpenApiTypes.OBJECT))
_TAGS = [f"DCSA Commercial Schedules {API_VERSION}"]


def _unlocode_parameter(name: str, description: str, required: bool = False) -> OpenApiParameter:
    return OpenApiParameter(name, {"type": "string", "pattern": UNLOCODE_RE}, required=required,
                            description=description)


def _date_parameter(name: str, description: str, required: bool = False) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.DATE, required=required, description=description)


class PointToPointView(CsView):
    answer = staticmethod(point_to_point)

    @extend_schema(
        operation_id="dcsa_cs_point_to_point_routes", tags=_TAGS,
        summary="Routes from an inland station to a port (DCSA Commercial Schedules GET /v1/point-to-point-routes)",
        description="Each route: rail or barge from the station to a Ningbo-Zhoushan terminal, then the vessel to "
                    "the destination; only connections open for booking now. `routingReference` "
                    "(departure/vessel call) names what to book.",
        parameters=[
            _unlocode_parameter("placeOfReceipt", "The station's city UN/LOCODE, e.g. CNYIU.", required=True),
            _unlocode_parameter("placeOfDelivery", "The destination port's UN/LOCODE, e.g. NLRTM.", required=True),
            _date_parameter("departureStartDate", "Departing from the station on or after (its local date)."),
            _date_parameter("departureEndDate", "Departing from the station on or before (its local date)."),
            _date_parameter("arrivalStartDate", "Arriving at the destination on or after (UTC date)."),
            _date_parameter("arrivalEndDate", "Arriving at the destination on or before (UTC date)."),
            OpenApiParameter("maxTranshipment", {"type": "integer", "minimum": 0},
                             description="Vessel-to-vessel transhipments allowed; every route here is direct."),
            OpenApiParameter("receiptTypeAtOrigin", {"type": "string", "enum": list(SERVICE_TYPES)},
                             description="CY (the default) is what stations offer: SD or CFS find no route."),
            OpenApiParameter("deliveryTypeAtDestination", {"type": "string", "enum": list(SERVICE_TYPES)},
                             description="CY (the default); SD or CFS find no route."),
            OpenApiParameter("cargoType", {"type": "string", "enum": list(CARGO_TYPES)},
                             description="DRY (the default) or REEFER: every service takes both."),
            *_PAGING,
        ],
        responses={200: OpenApiResponse(_ARRAY, description="DCSA PointToPoint objects"), **_ERRORS},
    )
    def get(self, request):
        return super().get(request)


class PortScheduleView(CsView):
    answer = staticmethod(port_schedules)

    @extend_schema(
        operation_id="dcsa_cs_port_schedules", tags=_TAGS,
        summary="A port's or a station's schedule (DCSA Commercial Schedules GET /v1/port-schedules)",
        description=f"For CNNGB, CNZOS or a terminal area's code: each terminal's vessel calls; for a station's city "
                    f"code: its trains and barges (schedules without a vessel). {PORT_SCHEDULE_DAYS} days from "
                    f"`date`.",
        parameters=[
            _unlocode_parameter("UNLocationCode", "The port's, a terminal area's or a station city's UN/LOCODE.",
                                required=True),
            _date_parameter("date", "The first day (local).", required=True),
            *_PAGING,
        ],
        responses={200: OpenApiResponse(_ARRAY, description="DCSA PortSchedule objects"), **_ERRORS},
    )
    def get(self, request):
        return super().get(request)


class VesselScheduleView(CsView):
    answer = staticmethod(vessel_schedules)

    @extend_schema(
        operation_id="dcsa_cs_vessel_schedules", tags=_TAGS,
        summary="Vessel calls by service and vessel (DCSA Commercial Schedules GET /v1/vessel-schedules)",
        description="The Ningbo-Zhoushan calls we know. At least one filter besides startDate and endDate.",
        parameters=[
            OpenApiParameter("vesselIMONumber", {"type": "string", "pattern": r"^\d{7,8}$"}),
            OpenApiParameter("vesselName", {"type": "string", "maxLength": 50}, description="Any case."),
            OpenApiParameter("carrierServiceCode", {"type": "string", "maxLength": 11},
                             description=f"{NO_SERVICE_CODE}: calls published without their service."),
            OpenApiParameter("universalServiceReference", {"type": "string", "maxLength": 8},
                             description="None are issued for our calls: matches none."),
            OpenApiParameter("carrierVoyageNumber", {"type": "string", "maxLength": 50}),
            OpenApiParameter("universalVoyageReference", {"type": "string", "maxLength": 5},
                             description="None are issued for our calls: matches none."),
            _unlocode_parameter("UNLocationCode", "CNNGB, CNZOS or a terminal area's code."),
            OpenApiParameter("facilitySMDGCode", {"type": "string", "maxLength": 6},
                             description="Our terminals have no SMDG codes here: matches none."),
            OpenApiParameter("vesselOperatorCarrierCode", {"type": "string", "maxLength": 10},
                             description="The carrier's SCAC."),
            _date_parameter("startDate", "Calls arriving or departing on or after; 3 months ago by default."),
            _date_parameter("endDate", "Calls arriving or departing on or before; 6 months ahead by default."),
            OpenApiParameter("responseScope", {"type": "string", "enum": list(RESPONSE_SCOPES)},
                             description="FULL_VOYAGE (the default: every call of a matched voyage) or "
                                         "MATCHED_CALLS."),
            *_PAGING,
        ],
        responses={200: OpenApiResponse(_ARRAY, description="DCSA ServiceSchedule objects"), **_ERRORS},
    )
    def get(self, request):
        return super().get(request)
