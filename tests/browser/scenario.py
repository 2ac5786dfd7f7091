"""The export journey the browser tests follow, as one scenario: a shipper books 2 x 40' from Yiwu West to a
Rotterdam vessel (a), the station hands out the empties, gates them in and loads the train (b), customs and
border inspection release the declaration (c), the railway and the port move the containers onto the vessel
and it sails (d), and anyone tracks a container (e).

Each journey's test drives the pages from the state the previous journeys leave; that state is built here
through the same services the pages call, so a journey's test never depends on another test having run.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection as database
from django.db import transaction
from django.utils import timezone

from bookings import services as bookings_services
from bookings.models import Booking, EmptyRequest
from bookings.selectors import connections_search
from bookings.services import booking_create
from customs import services as customs_services
from customs.models import Declaration, RiskRule
from intermodal.access import Actor
from intermodal.models import Organisation
from journey import services as journey
from stations.models import Departure, Location, Station, VesselCall

STATION = "YIWU-W"
DESTINATION = "NLRTM"
SIZE_TYPE = "42G1"
NUMBERS = ["CSQU3054383", "TCNU7200794"]
SEALS = {"CSQU3054383": "SEAL0012345", "TCNU7200794": "SEAL0012346"}
VGM_KG = Decimal("24500")
COMMODITY = "Christmas decorations"
GOODS = "Christmas decorations, plastic"


@dataclass
class State:
    booking: Booking
    departure: Departure
    vessel_call: VesselCall
    empty_request: EmptyRequest | None = None
    declaration: Declaration | None = None

    def refresh(self) -> "State":
        for row in (self.booking, self.departure, self.vessel_call, self.empty_request, self.declaration):
            if row is not None:
                row.refresh_from_db()
        return self


def actor(organisation_code: str) -> Actor:
    organisation = Organisation.objects.get(code=organisation_code)
    return Actor(organisation=organisation, user=organisation.users.order_by("pk").first())


SNAPSHOT = "browser_demo_snapshot"  # a schema of the test database: the demo as seeded, table by table
_snapshot_taken = False  # in this process: a snapshot left by an earlier run may be of other code


def demo_network() -> None:
    """The demo network and logins, in a database without them. Risk rules are switched off so that no
    declaration of the scenario is sent to inspection by the deterministic random sample: journey (c) is the
    clearance without inspection.

    seed_demo writes it for a process's first test of those that commit (transactional_db), which keeps a copy
    of every table; later tests copy it back, in a fraction of the seconds seed_demo takes. The rows come back
    with their ids, so the caches, which may hold what an earlier test made of them, are emptied. The copy is
    exact, in any order of the tables."""
    global _snapshot_taken
    tables = database.introspection.django_table_names(only_existing=True, include_views=False)
    quote = database.ops.quote_name
    if _snapshot_taken:
        with transaction.atomic(), database.cursor() as cursor:
            # Emptied first: the flush after the last test wrote the content types and permissions again. The
            # rows go in as they were, without the triggers (the audit's, the events' transaction ids): what
            # those wrote for them is in the copy.
            cursor.execute(f"TRUNCATE {', '.join(quote(table) for table in tables)}")
            cursor.execute("SET session_replication_role = replica")
            for table in tables:
                cursor.execute(f"INSERT INTO {quote(table)} TABLE {SNAPSHOT}.{quote(table)}")
            cursor.execute("RESET session_replication_role")
        ContentType.objects.clear_cache()
        cache.clear()
        return
    call_command("seed_demo", "--quiet", verbosity=0)
    RiskRule.objects.update(is_active=False)
    if database.in_atomic_block:
        return  # a test whose transaction is rolled back: a snapshot made in it would go with it
    with database.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SNAPSHOT}")
        for table in tables:
            cursor.execute(f"CREATE TABLE {SNAPSHOT}.{quote(table)} AS TABLE {quote(table)}")
    _snapshot_taken = True


def booked() -> State:
    """After journey (a): a confirmed booking on a Yiwu West departure of today or tomorrow (so that it is on
    the station board) for a Rotterdam vessel, and its two empties requested."""
    shipper = actor("demo-shipper-a")
    station = Station.objects.get(code=STATION)
    destination = Location.objects.get(unlocode=DESTINATION)
    today = timezone.localdate()
    for connection in connections_search(station=station, lines={SIZE_TYPE: 2}, destination=destination, limit=200):
        if connection.departure.service_date not in (today, today + timedelta(days=1)):
            continue
        booking = booking_create(
            actor=shipper, departure=connection.departure, vessel_call=connection.vessel_call,
            destination=destination, lines={SIZE_TYPE: 2}, commodity=COMMODITY,
            cargo_weight_kg=Decimal("18000"), confirm=True,
        )
        request = bookings_services.empty_request_create(actor=shipper, booking=booking, size_type=SIZE_TYPE,
                                                         quantity=2)
        return State(booking=booking, departure=connection.departure, vessel_call=connection.vessel_call,
                     empty_request=request)
    raise AssertionError("The demo network has no Yiwu West departure today or tomorrow for a Rotterdam vessel.")


def loaded() -> State:
    """After journey (b): both empties handed out, gated in laden with seal and VGM, and loaded on the train."""
    state = booked()
    staff = actor("demo-yiwu-station")
    journey.empty_request_ready(actor=staff, request=state.empty_request)
    for number in NUMBERS:
        journey.empty_hand_out(actor=staff, request=state.empty_request, number=number)
        journey.laden_gate_in(confirmed=True,
            actor=staff, number=number, seal_number=SEALS[number], vgm_kg=VGM_KG, vgm_method=1,
                              vgm_signatory="Wang Jun")
    journey.train_load_all_ready(confirmed=True, actor=staff, departure=state.departure)
    return state.refresh()


def declared() -> State:
    """Journey (b) done and the shipper's declaration submitted, waiting for both agencies."""
    state = loaded()
    shipper = actor("demo-shipper-a")
    declaration = customs_services.declaration_create(
        actor=shipper, booking=state.booking, trade_mode="0110", transport_mode="rail_vessel",
        declarant_uscc=state.booking.shipper.uscc, containers=NUMBERS,
        lines=[{"hs_code": "9505100000", "description": GOODS, "quantity": "24000",
                "unit": "pcs", "gross_weight_kg": "18000", "value": "52000", "currency": "USD",
                "origin_country": "CN", "un_number": ""}],
    )
    state.declaration = customs_services.declaration_submit(actor=shipper, declaration=declaration)
    return state


def other_declaration(state: State) -> Declaration:
    """Another shipper's booking on the same train and vessel, declared and submitted before its containers
    have numbers: a second declaration in the officers' queues."""
    other = actor("demo-shipper-b")
    booking = booking_create(
        actor=other, departure=state.departure, vessel_call=state.vessel_call, destination=state.booking.destination,
        lines={SIZE_TYPE: 1}, commodity="Ceramic tableware", cargo_weight_kg=Decimal("9000"), confirm=True,
    )
    declaration = customs_services.declaration_create(
        actor=other, booking=booking, trade_mode="0110", transport_mode="rail_vessel",
        declarant_uscc=booking.shipper.uscc,
        lines=[{"hs_code": "6911101900", "description": "Porcelain tableware", "quantity": "3000", "unit": "pcs",
                "gross_weight_kg": "9000", "value": "21000", "currency": "USD", "origin_country": "CN",
                "un_number": ""}],
    )
    return customs_services.declaration_submit(actor=other, declaration=declaration)


def released() -> State:
    """After journey (c): customs and border inspection both cleared the declaration, so it is released."""
    state = declared()
    for office in ("demo-customs", "demo-ciq"):
        customs_services.declaration_decide(actor=actor(office), declaration=state.declaration, kind="clear",
                                            reason="Documents in order")
    return state.refresh()


def sailed() -> State:
    """After journey (d): the train departed and arrived, the port discharged the containers, gated them in,
    loaded them on the vessel, and the vessel sailed."""
    state = released()
    railway, port = actor("demo-railway"), actor("demo-port")
    # A moment apart, in order: the timeline then reads like the journey.
    departed = journey.train_depart(confirmed=True, actor=railway, departure=state.departure).actual_departure
    journey.train_arrive(confirmed=True,
        actor=railway, departure=state.departure, at=departed + timedelta(milliseconds=1))
    for number in NUMBERS:
        journey.train_discharge(confirmed=True, actor=port, number=number)
        journey.terminal_gate_in(confirmed=True, actor=port, number=number)
        journey.vessel_load(confirmed=True, actor=port, number=number)
    journey.vessel_depart(confirmed=True, actor=port, vessel_call=state.vessel_call)
    return state.refresh()


# --- Imports (tests/browser/test_imports.py) -------------------------------------------------------------

IMPORT_VESSEL_CALL = "MSC-ANNA-118E"


def import_corridor() -> tuple[VesselCall, Departure]:
    """An import service Beilun -> Yiwu West of the demo railway with its departures of the next days, and a
    vessel at Beilun due ten hours ago; the first import departure that can take its containers."""
    from datetime import time

    from stations.models import Direction, Terminal
    from stations.services import departures_generate
    from tests import factories

    station, terminal = Station.objects.get(code=STATION), Terminal.objects.get(code="BEILUN")
    service = factories.service(station, terminal, Organisation.objects.get(code="demo-railway"),
                                code="BLG-YIWU-W-IMPORT", direction=Direction.IMPORT, departure_time=time(21, 0),
                                distance_km=305, teu_capacity=40)
    departures_generate(days=4, start=timezone.localdate(), services=type(service).objects.filter(pk=service.pk))
    now = timezone.now()
    call = factories.vessel_call(terminal, etd=now + timedelta(hours=20), imo="9839179", voyage="118E",
                                 reference=IMPORT_VESSEL_CALL, vessel_name="MSC Anna", carrier="MSC",
                                 carrier_scac="MSCU", destinations=("SGSIN",))
    # The port reports the vessel arrived as the test runs: its containers are then on the stack a handling buffer
    # after now, not after its ETA, and the departure must still take them then, whatever the time of day.
    stacked = max(call.import_stacked_at, now + terminal.handling_buffer)
    departure = (Departure.objects.filter(service=service, closing_time__gt=stacked + timedelta(hours=1))
                 .order_by("planned_departure").first())
    return call, departure


def imported() -> Booking:
    """An import booked inland by demo shipper A: announced by the port, on the train, arrived at Yiwu West, one
    container discharged there (waiting for customs), the other gated out and its empty back."""
    from inbound import services as arrivals
    from journey import imports

    call, departure = import_corridor()
    port, staff, railway = actor("demo-port"), actor("demo-yiwu-station"), actor("demo-railway")
    shipper = actor("demo-shipper-a")
    loading = Location.objects.get(unlocode="SGSIN")
    arrivals.arrivals_announce(actor=port, vessel_call=call, items=[
        arrivals.Announced(number=number, size_type=SIZE_TYPE, bl_number="MEDU7411029", consignee=shipper.organisation,
                           port_of_loading=loading, gross_weight_kg=Decimal("21000"), seal_number=SEALS[number])
        for number in NUMBERS])
    booking = arrivals.import_booking_create(actor=shipper, departure=departure, vessel_call=call, numbers=NUMBERS,
                                             commodity=COMMODITY)
    imports.vessel_arrive(actor=port, vessel_call=call, confirmed=True)
    for number in NUMBERS:
        imports.vessel_discharge(actor=port, number=number, confirmed=True)
        imports.import_train_load(actor=port, number=number, confirmed=True)
    journey.train_depart(actor=railway, departure=departure, confirmed=True)
    journey.train_arrive(actor=railway, departure=departure, confirmed=True)
    for number in NUMBERS:
        imports.station_discharge(actor=staff, number=number, confirmed=True)
    return booking
