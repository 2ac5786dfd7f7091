"""The demo network's import traffic, so that every demo party has import work on its pages: containers announced
on arriving vessels, and import bookings in every state of the import journey (DESIGN.md section 4).

Each step goes through the service a party would call (inbound.services, journey.imports, journey.services,
customs.services), so its event, outbox row and audit rows are the real ones. The steps of the past days are
played in time order with the clock set to each step's time (`_clock`): the services check times against "now"
(a departure still taking bookings, a report not in the future), and a container past its free time was
discharged a week ago. Written once: a demo network that has its import traffic is left alone.
"""

import contextlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from unittest import mock

from django.db import transaction
from django.utils import timezone
from stdnum import iso6346

from bookings import services as bookings_services
from bookings.models import Booking, Container
from customs import services as customs_services
from customs.models import Declaration, DeclarationStatus
from inbound import services as arrivals
from inbound.models import ArrivingContainer
from intermodal.access import Actor
from intermodal.models import Organisation, User
from journey import imports
from journey import services as journey
from stations import demo_data
from stations.models import Departure, Direction, Location, Service, Station, Terminal, VesselCall
from stations.services import departure_build

CONSIGNEES = ("demo-shipper-a", "demo-shipper-b")
IMPORT_TERMINAL = "BEILUN"
STATION = "YIWU-W"  # where the consignees' containers wait: the Yiwu staff's yard
RETURN_STATION = "YIWU-S"  # where the empties come back and go out again for an export (match-back)
WEEKS_BACK = 5  # of vessel calls to choose arrivals from: the oldest story's vessel came in three weeks ago
GOODS = {
    "machinery": ("8479899990", "Industrial machinery parts", Decimal("52000")),
    "wine": ("2204210000", "Wine in bottles", Decimal("38000")),
    "pulp": ("4703290000", "Wood pulp", Decimal("21000")),
    "plastics": ("3901100090", "Polyethylene granules", Decimal("30000")),
    "dairy": ("0402210000", "Milk powder", Decimal("46000")),
}
H = timedelta(hours=1)
DAY = timedelta(days=1)


@contextlib.contextmanager
def _clock(at: datetime):
    """The services read the time from django.utils.timezone.now: set to a step's time, a past step is recorded
    as it would have been on the day (its event time, audit and booking times, its checks against "now")."""
    with mock.patch.object(timezone, "now", return_value=at):
        yield


@dataclass
class Story:
    """One import booking of the demo: whose, which containers, and how far its journey has gone."""

    name: str
    consignee: str
    sizes: tuple[str, ...]
    goods: str
    departure: Departure | None = None
    call: VesselCall | None = None
    numbers: list[str] = field(default_factory=list)
    holds: dict = field(default_factory=dict)
    booking: Booking | None = None
    declaration: Declaration | None = None


@dataclass
class Scenario:
    now: datetime
    actors: dict
    loading_ports: list
    steps: list = field(default_factory=list)
    serial: itertools.count = field(default_factory=itertools.count)
    boxes: itertools.count = field(default_factory=lambda: itertools.count(1))

    def at(self, when: datetime, step: Callable[[], object]) -> None:
        self.steps.append((when, next(self.serial), step))

    def play(self) -> None:
        """Every step in time order, each at its time (the past ones with the clock set back)."""
        for when, _n, step in sorted(self.steps, key=lambda item: item[:2]):
            if when >= self.now:
                step()
                continue
            with _clock(when):
                step()


def demo_imports_create(*, now: datetime | None = None) -> int:
    """The demo's import traffic; returns the import bookings made (0 when it is there already or the demo network
    is not)."""
    consignees = list(Organisation.objects.filter(code__in=CONSIGNEES).order_by("code"))
    if len(consignees) < len(CONSIGNEES) or not Service.objects.filter(direction=Direction.IMPORT).exists():
        return 0
    if ArrivingContainer.objects.filter(consignee__in=consignees).exists():
        return 0
    now = now or timezone.now()
    codes = {"port": demo_data.PORT_OPERATOR, "station": demo_data.YIWU_OPERATOR,
             "railway": demo_data.SERVICE_OPERATOR, **{code: code for code in CONSIGNEES},
             **{code: code for code in demo_data.INSPECTION_OFFICES}}
    actors = {role: _actor(code) for role, code in codes.items()}
    loading = list(Location.objects.filter(unlocode__in=[row[0] for row in demo_data.LOCATIONS]).order_by("unlocode"))
    scenario = Scenario(now=now, actors=actors, loading_ports=loading)
    with transaction.atomic():
        stories = _stories(scenario)
        scenario.play()
        _match_back(scenario, next(s for s in stories if s.name == "returned"))
    return len(stories)


def _actor(code: str) -> Actor:
    organisation = Organisation.objects.get(code=code)
    return Actor(organisation=organisation, user=User.objects.filter(organisation=organisation).order_by("pk").first())


# --- Which vessel, which train -----------------------------------------------------------------------------


def _calls(now: datetime) -> list[dict]:
    """The import terminal's calls of the demo strings, from WEEKS_BACK weeks ago to next week, by ETA (fields)."""
    terminals = {terminal.code: terminal for terminal in Terminal.objects.all()}
    today = now.astimezone(demo_data.PORT_ZONE).date()
    monday = today - timedelta(days=today.isoweekday() - 1)
    found = []
    for offset in range(-WEEKS_BACK, 2):
        iso_year, iso_week, _ = (monday + timedelta(weeks=offset)).isocalendar()
        for string in demo_data.VESSEL_STRINGS:
            if string["terminal"] != IMPORT_TERMINAL:
                continue
            call = demo_data.vessel_call_of_week(string, iso_year, iso_week, terminals)
            if call is not None:
                call["destinations"] = string["destinations"]
                found.append(call)
    return sorted(found, key=lambda call: call["eta"])


def _vessel_call(fields: dict) -> VesselCall:
    """The call as seed_demo publishes it (the same key), published now if it is one of the past weeks'."""
    fields = dict(fields)
    destinations = fields.pop("destinations")
    call, new = VesselCall.objects.get_or_create(imo_number=fields.pop("imo_number"), voyage=fields.pop("voyage"),
                                                 terminal=fields.pop("terminal"), defaults=fields)
    if new:
        call.destinations.set(Location.objects.filter(unlocode__in=destinations))
    return call


def _departure(service: Service, day: date) -> Departure:
    """The service's departure on a day: the generated one, or (in the past) the one it ran."""
    built = departure_build(service=service, service_date=day)
    departure, _ = Departure.objects.get_or_create(
        service=service, service_date=day,
        defaults={field: getattr(built, field) for field in ("reference", "capacity_teu", "closing_time",
                                                             "planned_departure", "planned_arrival")})
    return departure


def _runs(service: Service, around: datetime, days: int, step: int):
    day = around.astimezone(demo_data.PORT_ZONE).date()
    for offset in range(days):
        candidate = day + timedelta(days=offset * step)
        if candidate.isoweekday() in service.weekdays:
            yield candidate, departure_build(service=service, service_date=candidate)


def _arriving_by(service: Service, moment: datetime) -> Departure:
    """The service's last run that arrives at the station by `moment`."""
    return _departure(service, next(day for day, built in _runs(service, moment, 14, -1)
                                    if built.planned_arrival <= moment))


def _closing_after(service: Service, moment: datetime) -> Departure:
    """The service's first run that still takes bookings after `moment`."""
    return _departure(service, next(day for day, built in _runs(service, moment - DAY, 14, 1)
                                    if built.closing_time > moment))


def _call_before(calls: list[dict], moment: datetime) -> VesselCall:
    """The last call whose containers are discharged and on the stack by `moment`."""
    return _vessel_call([call for call in calls if call["eta"] + 8 * H <= moment][-1])


# --- The stories ---------------------------------------------------------------------------------------------


def _stories(scenario: Scenario) -> list[Story]:
    now = scenario.now
    calls = _calls(now)
    to_yiwu = Service.objects.select_related("station", "terminal").get(
        direction=Direction.IMPORT, station__code=STATION, terminal__code=IMPORT_TERMINAL, mode="RAIL")
    a, b = CONSIGNEES
    stories = []

    def story(name, consignee, sizes, goods, departure, call=None, **holds):
        made = Story(name=name, consignee=consignee, sizes=sizes, goods=goods, departure=departure,
                     call=call or _call_before(calls, min(departure.closing_time, now - H)), holds=holds)
        stories.append(made)
        return made

    # On the vessel, arriving: booked inland; more announced on the same vessel for the consignees to book.
    arriving = _vessel_call(next(call for call in calls if call["eta"] > now + 12 * H))
    story("arriving", a, ("42G1", "22G1"), "machinery",
          _closing_after(to_yiwu, arriving.import_stacked_at + H), call=arriving)
    _announce(scenario, arriving, b, ("42G1", "45G1", "22G1"), freight_hold=[0], terminal_hold=[1])
    _announce(scenario, arriving, a, ("42G1", "42G1"))
    # Discharged, waiting at the terminal for tomorrow's train (the terminal holds it until its charges are paid).
    story("at_terminal", b, ("42G1",), "pulp", _closing_after(to_yiwu, now + 26 * H), terminal_hold=[0])
    # Loaded on the next train out of the terminal.
    story("on_train", a, ("22G1", "22G1"), "wine", _closing_after(to_yiwu, now + H))
    # On a long train inland, somewhere between Beilun and the far west.
    inland = _in_flight(now)
    if inland is not None:
        story("inland", b, ("42G1",), "plastics", inland)
    # At the Yiwu yard: available for pick-up, on the carrier's freight hold, waiting for customs.
    yard = _arriving_by(to_yiwu, now - 3 * H)
    story("available", a, ("42G1", "22G1"), "machinery", yard)
    story("freight_hold", b, ("45G1",), "dairy", yard, freight_hold=[0])
    story("customs_hold", a, ("22G1",), "dairy", yard)
    # Available for a week and not picked up: past its free time, demurrage running.
    story("demurrage", b, ("42G1",), "pulp", _arriving_by(to_yiwu, now - 7 * DAY))
    # Gated out to the consignee: detention running, within its free time and three weeks past it.
    story("delivered", a, ("42G1",), "plastics", _arriving_by(to_yiwu, now - 4 * DAY))
    story("detention", b, ("22G1",), "wine", _arriving_by(to_yiwu, now - 22 * DAY))
    # Back as empties at Yiwu South, where one goes out again for an export.
    story("returned", a, ("22G1", "42G1"), "machinery", _arriving_by(to_yiwu, now - 6 * DAY))

    for made in stories:
        made.numbers = [_number(made.call.carrier_scac, scenario) for _ in made.sizes]
        _announce_story(scenario, made)
        _book(scenario, made)
        _declare(scenario, made)
        _journey(scenario, made)
    _transports(scenario, stories)
    return stories


def _in_flight(now: datetime) -> Departure | None:
    """A run of the longest import services that left over an hour ago and arrives over an hour from now."""
    for service in Service.objects.filter(direction=Direction.IMPORT, terminal__code=IMPORT_TERMINAL).select_related(
            "station").order_by("-transit_hours", "code")[:4]:
        for day, built in _runs(service, now, 8, -1):
            if built.planned_departure <= now - H and built.planned_arrival >= now + H:
                return _departure(service, day)
    return None


def _number(carrier_scac: str, scenario: Scenario) -> str:
    """A valid ISO 6346 number of the carrier's boxes (owner code from its SCAC), one of the demo's own series."""
    body = f"{carrier_scac[:3]}U{770000 + next(scenario.boxes):06d}"
    return body + iso6346.calc_check_digit(body)


def _announce(scenario: Scenario, call: VesselCall, consignee: str, sizes, *, numbers=None, freight_hold=(),
              terminal_hold=()) -> list[str]:
    """The port announces the consignee's containers on the call, three days before it arrives."""
    numbers = numbers or [_number(call.carrier_scac, scenario) for _ in sizes]
    port_of_loading = scenario.loading_ports[call.pk % len(scenario.loading_ports)]
    organisation = scenario.actors[consignee].organisation
    items = [arrivals.Announced(
        number=number, size_type=size, bl_number=f"{call.carrier_scac}{call.voyage}{call.pk % 1000:03d}{n % 10}",
        consignee=organisation, port_of_loading=port_of_loading,
        gross_weight_kg=Decimal(21000 if size.startswith("2") else 26000),
        seal_number=f"{call.carrier_scac}{number[-6:]}",
        freight_hold=n in freight_hold, terminal_hold=n in terminal_hold)
        for n, (number, size) in enumerate(zip(numbers, sizes, strict=True))]
    scenario.at(min(call.eta - 3 * DAY, scenario.now),
                lambda: arrivals.arrivals_announce(actor=scenario.actors["port"], vessel_call=call, items=items))
    return numbers


def _announce_story(scenario: Scenario, story: Story) -> None:
    _announce(scenario, story.call, story.consignee, story.sizes, numbers=story.numbers,
              freight_hold=story.holds.get("freight_hold", ()), terminal_hold=story.holds.get("terminal_hold", ()))


def _book(scenario: Scenario, story: Story) -> None:
    def book():
        story.booking = arrivals.import_booking_create(
            actor=scenario.actors[story.consignee], departure=story.departure, vessel_call=story.call,
            numbers=story.numbers, commodity=GOODS[story.goods][1])

    scenario.at(min(story.call.eta - 2 * DAY, scenario.now), book)


def _declare(scenario: Scenario, story: Story) -> None:
    """Declared for the station once booked; both agencies clear it before the train (pre-release), except the one
    customs still holds at the station."""
    if story.name in ("arriving", "at_terminal"):
        return
    consignee = scenario.actors[story.consignee]
    hs_code, description, value = GOODS[story.goods]
    holding = story.name == "customs_hold"
    filed = story.departure.planned_arrival - 2 * H if holding else story.call.eta - DAY

    def declare():
        booking = story.booking
        declaration = customs_services.declaration_create(
            actor=consignee, booking=booking, trade_mode="0110",
            transport_mode="vessel_barge" if story.departure.service.mode == "BARGE" else "vessel_rail",
            lines=[{"hs_code": hs_code, "description": description, "quantity": str(len(story.numbers) * 400),
                    "unit": "kg" if story.goods in ("pulp", "plastics", "dairy") else "pcs",
                    "gross_weight_kg": str(booking.cargo_weight_kg), "value": str(value * len(story.numbers)),
                    "currency": "USD", "origin_country": "DE", "un_number": ""}],
            containers=story.numbers, declarant_uscc=consignee.organisation.uscc)
        story.declaration = customs_services.declaration_submit(actor=consignee, declaration=declaration)

    scenario.at(min(filed, scenario.now), declare)
    if not holding:
        scenario.at(min(filed + 4 * H, scenario.now), lambda: _clear(scenario, story.declaration))


def _clear(scenario: Scenario, declaration) -> None:
    """Both agencies clear it; one a risk rule selected is inspected jointly first, and passes."""
    customs, ciq = (scenario.actors[code] for code in demo_data.INSPECTION_OFFICES)
    declaration.refresh_from_db()
    if declaration.status == DeclarationStatus.INSPECTION_REQUIRED:
        customs_services.inspection_schedule(actor=customs, declaration=declaration, appointment_at=timezone.now())
        customs_services.inspection_record(actor=customs, declaration=declaration, result="passed",
                                           findings="Goods as declared")
    for office in (customs, ciq):
        customs_services.declaration_decide(actor=office, declaration=declaration, kind="clear",
                                            reason="Documents in order")


def _journey(scenario: Scenario, story: Story) -> None:
    """The container steps of the story, each at its time; the vessels' and trains' own steps are _transports'."""
    a, now, departure = scenario.actors, scenario.now, story.departure
    if story.call.eta >= now:
        return
    for n, number in enumerate(story.numbers):
        scenario.at(story.call.eta + 2 * H + n * 7 * timedelta(minutes=1),
                    lambda number=number: imports.vessel_discharge(actor=a["port"], number=number))
    if story.name == "at_terminal":
        return
    loaded = min(departure.planned_departure - 2 * H, now - 20 * timedelta(minutes=1))
    for n, number in enumerate(story.numbers):
        scenario.at(loaded + n * timedelta(minutes=3),
                    lambda number=number: imports.import_train_load(actor=a["port"], number=number))
    if departure.planned_arrival >= now:
        return
    discharged = departure.planned_arrival + H
    for n, number in enumerate(story.numbers):
        scenario.at(discharged + n * timedelta(minutes=5),
                    lambda number=number: imports.station_discharge(actor=a["station"], number=number))
    if story.name in ("delivered", "returned", "detention"):
        out = {"delivered": now - 2 * DAY, "returned": now - 5 * DAY, "detention": discharged + DAY}[story.name]
        for n, number in enumerate(story.numbers):
            scenario.at(out + n * timedelta(minutes=20),
                        lambda number=number: imports.import_gate_out(actor=a["station"], number=number))
    if story.name == "returned":
        back = Station.objects.get(code=RETURN_STATION)
        for n, number in enumerate(story.numbers):
            scenario.at(now - DAY + n * timedelta(minutes=40),
                        lambda number=number: imports.empty_return(actor=a["station"], number=number, station=back))


def _transports(scenario: Scenario, stories: list[Story]) -> None:
    """Each vessel arrives (and, discharged, sails at its ETD); each train departs and arrives: once, at its time."""
    a, now = scenario.actors, scenario.now
    calls = {story.call.pk: story.call for story in stories}
    for call in calls.values():
        if call.eta < now:
            scenario.at(call.eta, lambda call=call: imports.vessel_arrive(actor=a["port"], vessel_call=call))
        if call.etd < now:
            scenario.at(call.etd, lambda call=call: journey.vessel_depart(actor=a["port"], vessel_call=call))
    departures = {story.departure.pk: story.departure for story in stories}
    for departure in departures.values():
        if departure.planned_departure < now:
            scenario.at(departure.planned_departure,
                        lambda d=departure: journey.train_depart(actor=a["railway"], departure=d))
        if departure.planned_arrival < now:
            scenario.at(departure.planned_arrival,
                        lambda d=departure: journey.train_arrive(actor=a["railway"], departure=d))


# --- Match-back ------------------------------------------------------------------------------------------------


def _match_back(scenario: Scenario, returned: Story) -> Container:
    """An exporter at the return station books a box of the returned empty's size on a vessel of its carrier and is
    handed that empty: an import's empty out again for an export (match-back), now."""
    a = scenario.actors
    empty = Container.objects.get(booking=returned.booking, number=returned.numbers[0])
    service = Service.objects.get(direction=Direction.EXPORT, station__code=RETURN_STATION,
                                  terminal__code=IMPORT_TERMINAL, mode="RAIL")
    exporter = a[CONSIGNEES[1]]
    for departure in Departure.objects.filter(service=service, closing_time__gt=scenario.now + 2 * H).order_by(
            "planned_departure")[:10]:
        for call in VesselCall.objects.filter(terminal=service.terminal, carrier_scac=returned.call.carrier_scac,
                                              etd__gt=scenario.now).order_by("etd"):
            if bookings_services.connection_problems(departure=departure, vessel_call=call):
                continue
            booking = bookings_services.booking_create(
                actor=exporter, departure=departure, vessel_call=call, destination=call.destinations.order_by(
                    "unlocode").first(), lines={empty.size_type: 1}, commodity="Small commodities",
                cargo_weight_kg=Decimal("9000"), confirm=True)
            request = bookings_services.empty_request_create(actor=exporter, booking=booking,
                                                             size_type=empty.size_type, quantity=1)
            journey.empty_request_ready(actor=a["station"], request=request)
            return journey.empty_hand_out(actor=a["station"], request=request, number=empty.number)
    raise LookupError(f"No export from {RETURN_STATION} connects to a {returned.call.carrier_scac} vessel.")
