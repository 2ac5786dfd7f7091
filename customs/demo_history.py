"""Four months of past traffic on the demo network, both ways, so that the figures of `make run` have something to show.

Exports go inland station -> train -> vessel; imports (a share of the containers, a third by default) come off an
arrived vessel, by train to the station, out to the consignee and back as empties, which the station hands out
again for later exports where the size fits (match-back).

The rows are written as the services would have left them (departed trains, sailed vessels, containers on
board, empties handed out, declarations released, bills of lading issued at the stations that issue them, their
PDFs rendered on first download), with the events they would have recorded, each at its time
(so the events API, DCSA's feed and the timelines have a history too), in bulk: a past cannot be replayed
through services that refuse departures before now. Only for the demo network (its shippers must exist); run
again, it changes nothing.
"""

import random
import secrets
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from stdnum import iso6346

from bookings.models import (
    BillOfLading,
    BillOfLadingStatus,
    Booking,
    BookingLine,
    BookingStatus,
    Container,
    ContainerStatus,
    EmptyRequest,
    EmptyRequestStatus,
)
from customs.models import Declaration, DeclarationStatus, GoodsLine, Inspection
from inbound.models import ArrivingContainer, ReturnedEmpty
from intermodal.codes import Classifier, DocumentType, EmptyIndicator, EventType, FacilityKind, ModeOfTransport
from intermodal.events import event_build, events_append
from intermodal.models import Event, Organisation
from stations.models import Departure, DepartureStatus, Direction, Location, Service, VesselCall

SHANGHAI = ZoneInfo("Asia/Shanghai")
IMPORT_SHARE = 1 / 3  # of the containers, by default
SHIPPERS = ("demo-shipper-a", "demo-shipper-b")
DESTINATIONS = ("NLRTM", "DEHAM", "SGSIN", "AEJEA", "USLAX")
GOODS = (
    ("9503008900", "Plastic toys"), ("9505100000", "Christmas decorations"), ("6109100021", "Cotton T-shirts"),
    ("9403609990", "Wooden furniture"), ("8516797000", "Small kitchen appliances"), ("3926909090", "Plastic articles"),
    ("7323930000", "Stainless steel kitchenware"), ("6402999000", "Rubber footwear"),
)
USCC = "91330782MA2HQ7K12U"
IMPORT_GOODS = (
    ("8479899990", "Industrial machinery parts"), ("2204210000", "Wine in bottles"), ("4703290000", "Wood pulp"),
    ("3901100090", "Polyethylene granules"), ("0402210000", "Milk powder"),
)
LOADING_PORTS = ("DEHAM", "NLRTM", "USLAX", "SGSIN", "BRSSZ")


def _number(rng: random.Random) -> str:
    body = f"HIS{'U'}{rng.randrange(10**6):06d}"
    return body + iso6346.calc_check_digit(body)


def demo_history_create(*, days: int = 120, seed: int = 7, import_share: float = IMPORT_SHARE) -> int:
    """Past bookings on every demo line, every fourth day, each an import with the chance `import_share` (so about
    that share of the containers); returns how many were made (0 when done before)."""
    if Booking.objects.filter(reference__contains="-H").exists():
        return 0
    if not 0 <= import_share <= 1:
        raise ValueError("The import share is between 0 and 1.")
    shippers = list(Organisation.objects.filter(code__in=SHIPPERS).order_by("code"))
    if not shippers:
        return 0
    rng = random.Random(seed)
    destinations = list(Location.objects.filter(unlocode__in=DESTINATIONS))
    loading = list(Location.objects.filter(unlocode__in=LOADING_PORTS).order_by("unlocode")) or destinations
    now = timezone.now()
    today = timezone.localdate()
    made = 0
    used_numbers: set[str] = set()
    events: list[Event] = []
    transports_done: set[str] = set()
    stock: dict[int, list[ReturnedEmpty]] = {}  # station id -> returned import empties not handed out yet
    inbound = {(s.station_id, s.terminal_id, s.mode): s for s in Service.objects.filter(direction=Direction.IMPORT)
               .select_related("station", "terminal").prefetch_related("tariffs")}
    with transaction.atomic():
        for service in (Service.objects.filter(direction=Direction.EXPORT).select_related("station", "terminal")
                        .prefetch_related("tariffs").order_by("code")):
            tariffs = {t.container_size: t for t in service.tariffs.all()}
            if "20" not in tariffs or "40" not in tariffs:
                continue
            back_service = inbound.get((service.station_id, service.terminal_id, service.mode))
            for back in range(days, 0, -4):
                day = today - timedelta(days=back)
                leaves = datetime.combine(day, service.departure_time, tzinfo=SHANGHAI)
                arrives = leaves + timedelta(hours=service.transit_hours)
                etd = datetime.combine(arrives.astimezone(SHANGHAI).date() + timedelta(days=2), time(18),
                                       tzinfo=SHANGHAI)
                if etd + timedelta(days=1) > now:  # history only: the vessel (and one rolled a day) has sailed
                    continue
                departure = _departure(service, day)
                call = _vessel_call(service, etd, destinations)
                bookings = rng.randint(1, 3)
                booked = 0
                for _ in range(bookings):
                    size = "40" if rng.random() < 0.6 else "20"
                    quantity = rng.randint(1, 4)
                    teu = quantity * (2 if size == "40" else 1)
                    if back_service is not None and rng.random() < import_share:
                        made += 1
                        _import(rng, shippers, back_service, day, size, quantity, teu, made, loading, used_numbers,
                                stock, events, transports_done, now)
                        continue
                    if booked + teu > departure.capacity_teu:
                        break
                    booked += teu
                    made += 1
                    rolled = rng.random() < 0.06
                    sailed_on = _vessel_call(service, etd + timedelta(days=1), destinations) if rolled else call
                    booking = _booking(rng, shippers, service, departure, call, sailed_on, tariffs[size], size,
                                       quantity, teu, made, destinations)
                    request = _empty_request(rng, booking, size, quantity, leaves)
                    _containers(rng, booking, size, quantity, used_numbers, sailed_on,
                                _matched_back(stock, service.station_id, request.size_type, request))
                    declaration = _declaration(rng, booking, leaves)
                    events += _events(rng, booking, request, declaration, transports_done)
                Departure.objects.filter(pk=departure.pk).update(booked_teu=min(departure.capacity_teu, booked))
        events.sort(key=lambda event: event.event_datetime)  # the feeds' order follows the history's
        events_append(events)
    return made


def _departure(service, day) -> Departure:
    """The service's run on a past day, as it ran (on time)."""
    leaves = datetime.combine(day, service.departure_time, tzinfo=SHANGHAI)
    arrives = leaves + timedelta(hours=service.transit_hours)
    departure, _created = Departure.objects.get_or_create(
        service=service, service_date=day,
        defaults={"reference": f"{service.code}-{day:%Y%m%d}", "capacity_teu": service.teu_capacity,
                  "closing_time": leaves - timedelta(hours=service.closing_hours),
                  "planned_departure": leaves, "planned_arrival": arrives, "actual_departure": leaves,
                  "actual_arrival": arrives, "status": DepartureStatus.ARRIVED},
    )
    return departure


def _number_new(rng, used: set[str]) -> str:
    number = _number(rng)
    while number in used:
        number = _number(rng)
    used.add(number)
    return number


def _import(rng, shippers, service, day, size, quantity, teu, n, loading, used, stock, events, done, now):
    """One past import booking: off a vessel that came in two days before the train left the terminal, to the
    station, out to the consignee and (if back by now) returned empty - a box of the station's stock after."""
    leaves = datetime.combine(day, service.departure_time, tzinfo=SHANGHAI)
    arrives = leaves + timedelta(hours=service.transit_hours)
    departure = _departure(service, day)
    call = _vessel_call(service, datetime.combine(day - timedelta(days=1), time(18), tzinfo=SHANGHAI), loading)
    tariff = {t.container_size: t for t in service.tariffs.all()}[size]
    booking = _booking(rng, shippers, service, departure, call, call, tariff, size, quantity, teu, n, loading,
                       direction=Direction.IMPORT, status=BookingStatus.DELIVERED)
    Departure.objects.filter(pk=departure.pk).update(booked_teu=departure.booked_teu + teu)
    departure.booked_teu += teu
    declaration = _declaration(rng, booking, leaves, goods=IMPORT_GOODS, origin="DE",
                               transport_mode="vessel_barge" if service.mode == "BARGE" else "vessel_rail")
    station = service.station
    size_type = "42G1" if size == "40" else "22G1"
    rows, arrived = [], []
    for k in range(quantity):
        at_station = arrives + timedelta(hours=1, minutes=5 * k)
        delivered = max(at_station, declaration.released_at) + timedelta(hours=rng.randint(2, 8 * 24))
        returned = delivered + timedelta(days=rng.randint(1, 18), hours=rng.randint(0, 8))
        status = (ContainerStatus.AT_STATION if delivered > now else ContainerStatus.DELIVERED if returned > now
                  else ContainerStatus.RETURNED)
        container = Container(
            booking=booking, number=_number_new(rng, used), size_type=size_type, status=status,
            is_active=status != ContainerStatus.RETURNED, seal_number=f"DI{rng.randrange(10**6):06d}",
            station_discharge_at=at_station, available_at=max(at_station, declaration.released_at),
            delivered_at=delivered if delivered <= now else None, returned_at=returned if returned <= now else None)
        rows.append(container)
        arrived.append(ArrivingContainer(
            vessel_call=call, number=container.number, size_type=size_type, seal_number=container.seal_number,
            gross_weight_kg=booking.cargo_weight_kg / quantity, bl_number=f"DEMO{call.voyage}{n:05d}",
            port_of_loading=booking.destination, consignee=booking.shipper,
            announced_by=service.terminal.operator or booking.shipper,
            discharged_at=call.actual_arrival + timedelta(hours=2, minutes=5 * k), booking=booking))
    Container.objects.bulk_create(rows)
    ArrivingContainer.objects.bulk_create(arrived)
    statuses = {row.status for row in rows}
    if statuses != {ContainerStatus.DELIVERED, ContainerStatus.RETURNED} and statuses - {ContainerStatus.RETURNED}:
        Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.AT_STATION)
    if station.has_empty_depot:
        back = ReturnedEmpty.objects.bulk_create([
            ReturnedEmpty(number=row.number, size_type=row.size_type, station=station, owner_scac=call.carrier_scac,
                          returned_at=row.returned_at, import_container=row, port_distance_km=service.distance_km)
            for row in rows if row.returned_at])
        stock.setdefault(station.pk, []).extend(back)
    events += _import_events(rng, booking, rows, declaration, done)


def _import_events(rng, booking, containers, declaration, transports_done: set[str]) -> list[Event]:
    """What the import steps recorded: the vessel's arrival, each box off the vessel, on and off the train, available,
    out to the consignee and back empty; the train's run once; the declaration's."""
    departure, call, service, station, terminal, at_station, at_terminal, rail, vessel = _where(booking)
    made, add = _adder()
    shipment = {"event_type": EventType.SHIPMENT, "booking_reference": booking.reference}
    add(booking.confirmed_at, booking.shipper, event_code="CONF", document_type=DocumentType.BKG,
        document_reference=booking.reference, transport_reference=departure.reference, **shipment, **at_station)
    for n, container in enumerate(containers):
        laden = {"event_type": EventType.EQUIPMENT, "equipment_reference": container.number,
                 "booking_reference": booking.reference, "details": {"size_type": container.size_type},
                 "empty_indicator": EmptyIndicator.LADEN}
        add(call.actual_arrival + timedelta(hours=2, minutes=5 * n), terminal.operator, event_code="DISC", **laden,
            **at_terminal, **vessel)
        add(departure.actual_departure - timedelta(hours=2, minutes=-3 * n), terminal.operator, event_code="LOAD",
            **laden, **at_terminal, **rail)
        add(container.station_discharge_at, station.operator, event_code="DISC", **laden, **at_station, **rail)
        add(container.available_at, station.operator, event_code="AVPU",
            **laden, **at_station)
        if container.delivered_at:
            add(container.delivered_at, station.operator, event_code="GTOT", **laden, **at_station)
        if container.returned_at:
            add(container.returned_at, station.operator, event_code="GTIN",
                **{**laden, "empty_indicator": EmptyIndicator.EMPTY}, **at_station)
    if f"{call.reference} ARRI" not in transports_done:
        transports_done.add(f"{call.reference} ARRI")
        add(call.actual_arrival, terminal.operator, event_type=EventType.TRANSPORT, event_code="ARRI",
            **at_terminal, **vessel)
    if departure.reference not in transports_done:
        transports_done.add(departure.reference)
        add(departure.actual_departure, service.operator, event_type=EventType.TRANSPORT, event_code="DEPA",
            **at_terminal, **rail)
        add(departure.actual_arrival, service.operator, event_type=EventType.TRANSPORT, event_code="ARRI",
            **at_station, **rail)
    made += _vessel_sailed(call, transports_done)
    made += _customs_events(booking, declaration, shipment, at_station)
    return made


def _where(booking) -> tuple:
    """The booking's departure, vessel call, service, station and terminal, and the event fields of its places and
    transports: at the station, at the terminal, by the train (or barge), by the vessel."""
    departure, call = booking.departure, booking.vessel_call
    service = departure.service
    station, terminal = service.station, service.terminal
    rail = {"mode_of_transport": service.mode, "transport_reference": departure.reference}
    vessel = {"mode_of_transport": ModeOfTransport.VESSEL, "transport_reference": call.reference}
    return (departure, call, service, station, terminal, _place_at_station(station), _place_at_terminal(terminal),
            rail, vessel)


def _adder():
    made = []

    def add(at, organisation, **fields):
        event = event_build(classifier=Classifier.ACTUAL, event_datetime=at, organisation=organisation, **fields)
        event.created_at = at  # recorded as it happened
        made.append(event)

    return made, add


def _place_at_station(station) -> dict:
    return {"facility_kind": FacilityKind.STATION, "facility_code": station.code, "location_unlocode": station.unlocode}


def _place_at_terminal(terminal) -> dict:
    return {"facility_kind": FacilityKind.TERMINAL, "facility_code": terminal.code,
            "location_unlocode": terminal.unlocode}


def _vessel_sailed(call, transports_done: set[str]) -> list[Event]:
    """The vessel's departure, once whatever it carried either way."""
    if call.reference in transports_done:
        return []
    transports_done.add(call.reference)
    made, add = _adder()
    add(call.actual_departure, call.terminal.operator, event_type=EventType.TRANSPORT, event_code="DEPA",
        mode_of_transport=ModeOfTransport.VESSEL, transport_reference=call.reference,
        **_place_at_terminal(call.terminal))
    return made


def _customs_events(booking, declaration, shipment: dict, at_station: dict) -> list[Event]:
    made, add = _adder()
    customs = {**shipment, "document_type": DocumentType.CUS, "document_reference": declaration.reference,
               **at_station}
    add(declaration.submitted_at, booking.shipper, event_code="SUBM", **customs)
    if declaration.risk_selected:
        add(declaration.submitted_at + timedelta(minutes=1), None, event_code="HOLD", **customs)
    add(declaration.released_at, None, event_code="RELS", **customs)
    return made


def _vessel_call(service, etd, destinations) -> VesselCall:
    voyage = f"H{etd:%y%j}"
    call, created = VesselCall.objects.get_or_create(
        imo_number="9811000", voyage=voyage, terminal=service.terminal,
        defaults={"reference": f"9811000-{voyage}-{service.terminal.code}"[:40], "vessel_name": "Demo History",
                  "carrier": "Demo Line", "carrier_scac": "DEMO", "eta": etd - timedelta(hours=30), "etd": etd,
                  "cy_cutoff": etd - timedelta(hours=24), "vgm_cutoff": etd - timedelta(hours=24),
                  "si_cutoff": etd - timedelta(hours=48), "customs_cutoff": etd - timedelta(hours=24),
                  "dg_cutoff": etd - timedelta(hours=72), "actual_arrival": etd - timedelta(hours=30),
                  "actual_departure": etd},
    )
    if created:
        call.destinations.set(destinations)
    return call


def _booking(rng, shippers, service, departure, call, sailed_on, tariff, size, quantity, teu, n, destinations, *,
             direction=Direction.EXPORT, status=BookingStatus.SAILED):
    unit = (tariff.transport_price + tariff.port_handling + tariff.documentation).quantize(Decimal("0.01"))
    road = tariff.road_haulage_price.quantize(Decimal("0.01"))
    size_type = "42G1" if size == "40" else "22G1"
    quoted = departure.planned_departure - timedelta(days=rng.randint(3, 8))
    booking = Booking.objects.create(
        reference=f"BK-{departure.service_date:%Y}-H{n:05d}", shipper=rng.choice(shippers), departure=departure,
        vessel_call=sailed_on, original_vessel_call=call, destination=rng.choice(destinations),
        direction=direction, status=status, teu=teu, commodity="Demo goods", cargo_weight_kg=Decimal(9000 * quantity),
        currency=tariff.currency, quote_transport=tariff.transport_price * quantity,
        quote_port_handling=tariff.port_handling * quantity, quote_documentation=tariff.documentation * quantity,
        quote_total=unit * quantity, quote_road_haulage=road * quantity, quote_saving=(road - unit) * quantity,
        quoted_at=quoted, confirmed_at=quoted, roll_count=int(sailed_on.pk != call.pk),
        free_time_start=quoted.date(),
        **({"free_days": service.station.import_free_days} if direction == Direction.IMPORT else {}),
    )
    BookingLine.objects.create(booking=booking, size_type=size_type, quantity=quantity, teu=teu, unit_price=unit,
                               unit_road_price=road)
    return booking


def _containers(rng, booking, size, quantity, used, sailed_on, matched=()) -> None:
    """The booking's boxes: the returned import empties it was handed first (match-back), then new numbers."""
    rows = []
    numbers = [empty.number for empty in matched]
    numbers += [_number_new(rng, used) for _ in range(quantity - len(numbers))]
    for number in numbers:
        rows.append(Container(
            booking=booking, number=number, size_type="42G1" if size == "40" else "22G1",
            status=ContainerStatus.SAILED, is_active=False, seal_number=f"DS{rng.randrange(10**6):06d}",
            vgm_kg=Decimal(rng.randint(12000, 28000)), vgm_method=1, vgm_signatory="Demo",
            terminal_gate_in_at=sailed_on.cy_cutoff - timedelta(hours=rng.randint(3, 30)),
        ))
    Container.objects.bulk_create(rows)
    for empty in matched:
        empty.used_by = next(row for row in rows if row.number == empty.number)
        ReturnedEmpty.objects.filter(pk=empty.pk).update(used_at=empty.used_at, used_by=empty.used_by)


def _matched_back(stock: dict, station_id: int, size_type: str, request) -> list[ReturnedEmpty]:
    """The returned import empties of the booking's size at its station, back before its empties were handed out,
    that the station gives it instead of empties from the port (match-back); taken from the stock."""
    waiting = stock.get(station_id, [])
    matched = [empty for empty in waiting
               if empty.size_type == size_type and empty.returned_at < request.picked_up_at][:request.quantity]
    for empty in matched:
        waiting.remove(empty)
        empty.used_at = request.picked_up_at
    return matched


def _empty_request(rng, booking, size, quantity, leaves) -> None:
    requested = leaves - timedelta(days=4, hours=rng.randint(0, 24))
    request = EmptyRequest.objects.create(booking=booking, size_type="42G1" if size == "40" else "22G1",
                                          quantity=quantity, handed_out=quantity, status=EmptyRequestStatus.PICKED_UP)
    # Waits shrink over the months: the network's "two days saved".
    age = (timezone.now() - leaves).days
    wait = timedelta(hours=rng.randint(4, 20) + age // 6)
    EmptyRequest.objects.filter(pk=request.pk).update(requested_at=requested, ready_at=requested + wait / 2,
                                                      picked_up_at=requested + wait)
    request.refresh_from_db()
    # The empties went out as the request was picked up (GTOT, empty, in _events): the match-back share counts them.
    Container.objects.filter(booking=booking).update(empty_out_at=request.picked_up_at)
    return request


def _declaration(rng, booking, leaves, *, transport_mode="rail_vessel", goods=GOODS, origin="CN") -> None:
    submitted = leaves - timedelta(days=2, hours=rng.randint(0, 12))
    inspected = rng.random() < 0.12
    hours = rng.randint(1, 8) + (rng.randint(12, 30) if inspected else 0)
    declaration = Declaration.objects.create(
        reference=f"SD-{booking.reference[3:]}", booking=booking, declarant=booking.shipper, declarant_uscc=USCC,
        station=booking.departure.service.station, trade_mode="0110", transport_mode=transport_mode,
        status=DeclarationStatus.RELEASED, submitted_at=submitted, decided_at=submitted + timedelta(hours=hours),
        released_at=submitted + timedelta(hours=hours), risk_selected=inspected,
    )
    hs_code, description = rng.choice(goods)
    GoodsLine.objects.create(declaration=declaration, line_no=1, hs_code=hs_code, description=description,
                             quantity=Decimal(rng.randint(200, 5000)), unit="pcs",
                             gross_weight_kg=booking.cargo_weight_kg, value=Decimal(rng.randint(8000, 90000)),
                             currency="USD", origin_country=origin)
    if inspected:
        Inspection.objects.create(declaration=declaration, requested_by="customs", result="passed",
                                  findings="Goods as declared", recorded_at=declaration.released_at)
    return declaration


def _events(rng, booking, request, declaration, transports_done: set[str]) -> list[Event]:
    """What the services recorded for this booking, its containers, declaration and empties; the train's and
    the vessel's own departures and arrival once each (`transports_done`)."""
    departure, call, service, station, terminal, at_station, at_terminal, rail, vessel = _where(booking)
    leaves, arrives = departure.actual_departure, departure.actual_arrival
    made, add = _adder()

    shipment = {"event_type": EventType.SHIPMENT, "booking_reference": booking.reference}
    add(booking.confirmed_at, booking.shipper, event_code="CONF", document_type=DocumentType.BKG,
        document_reference=booking.reference, transport_reference=departure.reference, **shipment, **at_station)
    add(request.ready_at, station.operator, event_type=EventType.EQUIPMENT, event_code="AVPU",
        empty_indicator=EmptyIndicator.EMPTY, booking_reference=booking.reference, **at_station,
        details={"empty_request": request.pk, "size_type": request.size_type, "quantity": request.quantity})
    for container in booking.containers.all():
        equipment = {"event_type": EventType.EQUIPMENT, "equipment_reference": container.number,
                     "booking_reference": booking.reference, "details": {"size_type": container.size_type}}
        laden = {**equipment, "empty_indicator": EmptyIndicator.LADEN}
        gated_in = leaves - timedelta(hours=rng.randint(6, 30))
        add(request.picked_up_at, station.operator, event_code="GTOT", empty_indicator=EmptyIndicator.EMPTY,
            **equipment, **at_station)
        add(gated_in, station.operator, event_code="GTIN", **laden, **at_station)
        add(leaves - timedelta(hours=rng.randint(1, 4)), station.operator, event_code="LOAD", **laden,
            **at_station, **rail)
        add(arrives + timedelta(hours=1), terminal.operator, event_code="DISC", **laden, **at_terminal, **rail)
        add(max(container.terminal_gate_in_at, arrives + timedelta(hours=2)), terminal.operator, event_code="GTIN",
            **laden, **at_terminal)
        add(call.actual_departure - timedelta(hours=rng.randint(2, 12)), terminal.operator, event_code="LOAD",
            **laden, **at_terminal, **vessel)
    if departure.reference not in transports_done:
        transports_done.add(departure.reference)
        add(leaves, service.operator, event_type=EventType.TRANSPORT, event_code="DEPA", **at_station, **rail)
        add(arrives, service.operator, event_type=EventType.TRANSPORT, event_code="ARRI", **at_terminal, **rail)
    made += _vessel_sailed(call, transports_done)
    made += _customs_events(booking, declaration, shipment, at_station)
    if station.issues_bills_of_lading:
        # Asked for with the declaration, issued once the containers are in and customs released them.
        gated_in = max(e.event_datetime for e in made if e.event_code == "GTIN" and e.facility_code == station.code)
        bill = _bill_of_lading(booking, declaration, issued_at=max(gated_in, declaration.released_at)
                               + timedelta(hours=1))
        on_bill = {**shipment, **at_station}
        add(bill.requested_at, booking.shipper, event_code="SUBM", document_type=DocumentType.SHI,
            document_reference=booking.reference, details={"bill_of_lading": "requested"}, **on_bill)
        add(bill.issued_at, station.operator, event_code="ISSU", document_type=DocumentType.TRD,
            document_reference=bill.number, transport_reference=call.reference,
            details={"bill_of_lading": bill.number}, **on_bill)
    return made


def _bill_of_lading(booking, declaration, issued_at) -> BillOfLading:
    station = booking.departure.service.station
    line = declaration.lines.first()
    bill = BillOfLading.objects.create(
        booking=booking, shipper_name=booking.shipper.name, shipper_address=f"Demo address, {station.city}",
        consignee_name="Demo consignee", consignee_address=f"Demo address, {booking.destination.name}",
        notify_name="Same as consignee", notify_address=f"Demo address, {booking.destination.name}",
        goods_description=line.description if line else booking.commodity, place_of_issue=station,
    )
    # The number as bill_of_lading_issue gives it (documents.bill_of_lading), from the row's id.
    bill.status = BillOfLadingStatus.ISSUED
    bill.number = f"BL{station.unlocode}{issued_at.astimezone(SHANGHAI):%y}{bill.pk:06d}"
    bill.requested_at = declaration.submitted_at
    bill.issued_at = issued_at
    bill.verification_token = secrets.token_urlsafe(24)
    BillOfLading.objects.filter(pk=bill.pk).update(
        status=bill.status, number=bill.number, requested_at=bill.requested_at, issued_at=bill.issued_at,
        verification_token=bill.verification_token)
    return bill
