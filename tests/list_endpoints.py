"""Every DRF list endpoint, and how to ask each for 10 and for 100 items (P4: SQL queries per list request).

Used by tests/test_query_counts.py (in `make test`) and bench/query_counts.py (in `make bench`). The endpoints
are found from the URL resolver, through the OpenAPI schema drf-spectacular builds from it: a GET whose answer
is a JSON array or a page of `results` is a list. A new list endpoint needs a CASES entry below (the test fails
until it has one): the URL that asks for n items, with n = 10 and 100, and who asks.
"""

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

PAGE_SIZES = (10, 100)
QUERY_LIMIT = 10
ITEMS = 105  # of everything a list shows, so that a page of 100 is full


# --- Finding the list endpoints --------------------------------------------------------------------------


def _resolve(schema: dict, node: dict) -> dict:
    components = schema.get("components", {}).get("schemas", {})
    while "$ref" in node:
        node = components[node["$ref"].rsplit("/", 1)[-1]]
    return node


def list_endpoints() -> set[str]:
    """The paths (as OpenAPI writes them, e.g. /api/v1/bookings/{reference}/containers/) of every GET that
    answers a list, found by walking the URL resolver; DRF views that list models (ListModelMixin, or a viewset's
    `list` action) count even when their schema were to say otherwise."""
    from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator
    from rest_framework.mixins import ListModelMixin

    found = set()
    for path, _regex, method, callback in EndpointEnumerator().get_api_endpoints():
        actions = getattr(callback, "actions", None) or {}
        cls = getattr(callback, "cls", None)
        if method == "GET" and (
            actions.get("get") == "list" or (not actions and cls is not None and issubclass(cls, ListModelMixin))
        ):
            found.add(path)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, operations in schema["paths"].items():
        answer = operations.get("get", {}).get("responses", {}).get("200", {})
        for media in answer.get("content", {}).values():
            body = _resolve(schema, media.get("schema", {}))
            if body.get("type") == "array" or body.get("properties", {}).get("results", {}).get("type") == "array":
                found.add(path)
    return found


# --- The data: more than a page of everything, for one shipper -------------------------------------------


@dataclass
class World:
    shipper_key: str
    few: object  # a booking with 10 containers and 10 empty requests
    many: object  # a booking with 100 of each
    station: str  # the station of the connections
    near_call: str  # a vessel call that 10 of its departures make
    far_call: str  # and one that 100 make
    person: object = None  # the shipper's person, for what is a person's own (notifications)


_numbers = itertools.count(1)


def _container_number() -> str:
    # The database checks the format only; these never meet a real number (owner code QQQ).
    return f"QQQU{next(_numbers):07d}"


def _clone_booking(booking, reference: str):
    from bookings.models import BookingLine

    clone = copy.copy(booking)
    clone.pk = clone.id = None
    clone.reference = reference
    clone.save(force_insert=True)
    BookingLine.objects.bulk_create(
        [BookingLine(**{**line, "id": None, "booking_id": clone.pk}) for line in booking.lines.values()]
    )
    return clone


def world_build() -> World:
    """Stations, services, departures, vessel calls, API keys, bookings, declarations and events: ITEMS of each
    for one shipper (a booking and a declaration made through the services, the rest copied from them)."""
    from bookings import services
    from bookings.models import Container, EmptyRequest
    from customs.models import GoodsLine
    from intermodal.access import Actor, api_key_create
    from intermodal.events import event_record
    from intermodal.models import DEFAULT_SCOPES, PartyKind, Scope
    from journey import services as journey
    from stations.models import Departure, Location, Service, Station, Tariff
    from stations.services import departure_build
    from tests import factories

    network = factories.small_network()
    Station.objects.bulk_create(
        [
            Station(code=f"q-st-{n:03d}", name=f"Station {n}", name_zh=f"站 {n}", city="Yiwu", city_zh="义乌",
                    province="Zhejiang", province_zh="浙江", unlocode="CNYIU", operator=network.operator)
            for n in range(ITEMS)
        ]
    )  # fmt: skip
    built = Service.objects.bulk_create(
        [
            Service(code=f"q-sv-{n:03d}", short_code=f"Q{n:03d}", station=network.yiwu, terminal=network.beilun,
                    operator=network.railway, weekdays=[1, 2, 3, 4, 5, 6, 7],
                    departure_time=network.yiwu_rail.departure_time, transit_hours=8, teu_capacity=100,
                    is_active=False)
            for n in range(ITEMS)
        ]
    )  # fmt: skip
    Tariff.objects.bulk_create(
        [
            Tariff(service=service, container_size=size, transport_price=Decimal("1350"), port_handling=Decimal("380"),
                   documentation=Decimal("150"), road_haulage_price=Decimal("2700"))
            for service in built
            for size in ("20", "40", "45")
        ]
    )  # fmt: skip

    # Connections: a station whose daily train to Beilun starts tomorrow; the near vessel is made by 10 of its
    # departures, the far one by 100.
    station = factories.station("q-conn", operator=network.operator, name="Connections")
    line = factories.service(station, network.beilun, network.railway, code="q-conn-blg")
    first = network.today + timedelta(days=1)
    Departure.objects.bulk_create([departure_build(service=line, service_date=first + timedelta(days=n))
                                   for n in range(ITEMS + 5)])
    calls = {}
    for name, days in (("near", 11), ("far", 101)):
        # Trains leave 09:30 and arrive 17:30; the terminal needs 6 h and the cut-off is 24 h before sailing.
        calls[name] = factories.vessel_call(
            network.beilun, etd=factories.shanghai(first + timedelta(days=days), 12), imo="9811000",
            voyage=f"Q{name}", destinations=("NLRTM",),
        )  # fmt: skip
    Location.objects.filter(unlocode="NLRTM").update(sea_transit_days=30)  # routes to it in DCSA schedules
    for n in range(ITEMS):
        factories.vessel_call(network.beilun, etd=factories.shanghai(network.today + timedelta(days=n % 60 + 2), 18),
                              imo="9321483", voyage=f"Q{n:03d}E")  # fmt: skip

    shipper = factories.organisation(PartyKind.ENTERPRISE, code="q-shipper", uscc=factories.VALID_USCC)
    person = factories.user(shipper, username="q-shipper")
    actor = Actor(organisation=shipper, user=person)
    _key, raw = api_key_create(organisation=shipper, name="caller",
                               scopes=[*DEFAULT_SCOPES[PartyKind.ENTERPRISE], Scope.KEYS_MANAGE])  # fmt: skip
    for n in range(ITEMS - 1):
        api_key_create(organisation=shipper, name=f"key {n}", scopes=[Scope.EVENTS_READ])

    booking = services.booking_create(
        actor=actor,
        departure=network.yiwu_rail.departures.filter(planned_arrival__lte=network.vessel_call.latest_arrival_for())
        .order_by("-planned_departure")
        .first(),
        vessel_call=network.vessel_call, destination=Location.objects.get(unlocode="NLRTM"), lines={"42G1": 2},
        commodity="Toys", cargo_weight_kg=Decimal("18000"), confirm=True,
    )  # fmt: skip
    request = services.empty_request_create(actor=actor, booking=booking, size_type="42G1", quantity=1)
    journey.empty_request_ready(actor=Actor(organisation=network.operator), request=request)  # an event of its own
    services.container_assign(actor=actor, booking=booking, number="CSQU3054383", size_type="42G1")
    declaration = factories.declaration_released(booking)
    bookings = [_clone_booking(booking, f"BK-2026-Q{n:05d}") for n in range(ITEMS)]
    lines = list(declaration.lines.values())
    for n, clone in enumerate(bookings):
        copied = copy.copy(declaration)
        copied.pk = copied.id = None
        copied.booking, copied.reference = clone, f"CD-Q{n:05d}"
        copied.save(force_insert=True)
        GoodsLine.objects.bulk_create([GoodsLine(**{**row, "id": None, "declaration_id": copied.pk}) for row in lines])
    few, many = bookings[0], bookings[1]
    for target, count in ((few, 10), (many, 100)):
        Container.objects.bulk_create(
            [Container(booking=target, number=_container_number(), size_type="42G1") for _ in range(count)]
        )
        EmptyRequest.objects.bulk_create(
            [EmptyRequest(booking=target, size_type="42G1", quantity=1, requested_by=person) for _ in range(count)]
        )
    for n in range(ITEMS):
        event_record(
            event_type="EQUIPMENT", event_code="GTOT", organisation=network.operator,
            equipment_reference=f"QQQU{n:07d}", empty_indicator="EMPTY", booking_reference=booking.reference,
            facility_kind="station", facility_code=network.yiwu.code, location_unlocode=network.yiwu.unlocode,
            details={"size_type": "42G1"},
        )  # fmt: skip
    _imports_build(booking, network, shipper)
    _notifications_build(shipper, person)
    return World(shipper_key=raw, few=few, many=many, station=station.code, near_call=calls["near"].reference,
                 far_call=calls["far"].reference, person=person)  # fmt: skip


def _imports_build(booking, network, shipper) -> None:
    """ITEMS import containers of the shipper at the station (some held for freight), each announced on the vessel."""
    from django.utils import timezone

    from bookings.models import Booking, Container
    from inbound.models import ArrivingContainer
    from stations.models import Location

    imported = _clone_booking(booking, "BK-2026-QIMPORT")
    Booking.objects.filter(pk=imported.pk).update(direction="import", status="at_station")
    now = timezone.now()
    containers = Container.objects.bulk_create(
        [Container(booking=imported, number=_container_number(), size_type="42G1", status="at_station",
                   station_discharge_at=now - timedelta(days=n % 9)) for n in range(ITEMS)])
    loading = Location.objects.get(unlocode="NLRTM")
    ArrivingContainer.objects.bulk_create(
        [ArrivingContainer(vessel_call=network.vessel_call, number=c.number, size_type="42G1",
                           gross_weight_kg=Decimal("20000"), bl_number="BLQ", consignee=shipper,
                           announced_by=network.port, port_of_loading=loading, booking=imported,
                           freight_hold=n % 2 == 0) for n, c in enumerate(containers)])


def _notifications_build(shipper, person) -> None:
    """ITEMS webhook subscriptions (Standard and DCSA), deliveries and notifications of the shipper."""
    from intermodal.models import Event
    from notifications.models import Delivery, Notification, Subscription, SubscriptionFormat

    subscriptions = Subscription.objects.bulk_create(
        [
            Subscription(organisation=shipper, url=f"https://erp.example/hooks/{n}", event_kinds=["*"], secret="s",
                         format=kind, name=f"q {n}")
            for kind in (SubscriptionFormat.STANDARD, SubscriptionFormat.DCSA)
            for n in range(ITEMS)
        ]
    )  # fmt: skip
    events = list(Event.objects.order_by("id")[:ITEMS])
    Delivery.objects.bulk_create(
        [
            Delivery(webhook_id=f"msg_{n:032x}", subscription=subscriptions[0], event=event, topic="equipment.gtot",
                     body="{}")
            for n, event in enumerate(events)
        ]
    )  # fmt: skip
    Notification.objects.bulk_create(
        [
            Notification(user=person, kind="booking_confirmed", params={"booking": f"BK-{n}", "departure": "D"},
                         dedupe_key=f"q-{n}")
            for n in range(ITEMS)
        ]
    )  # fmt: skip


# --- How to ask each endpoint for n items ----------------------------------------------------------------


@dataclass
class Case:
    url: Callable[[World, int], str]
    keyed: bool = True  # with the shipper's API key; False: anonymous (published schedules)
    signed_in: bool = False  # as the shipper's person, with a session (a person's own notifications)
    items: Callable[[object], int] = lambda body: len(body["results"])  # noqa: E731
    most: int | None = None  # the endpoint answers at most this many, whatever is asked

    def expected(self, n: int) -> int:
        return min(n, self.most or n)


def _page(path: str, **query) -> Callable[[World, int], str]:
    def url(world: World, n: int) -> str:
        extra = "".join(f"&{k}={v}" for k, v in query.items())
        return f"{path}?page_size={n}{extra}"

    return url


def _booking(world: World, n: int):
    return world.few if n == PAGE_SIZES[0] else world.many


CASES: dict[str, Case] = {
    "/api/v1/stations/": Case(_page("/api/v1/stations/"), keyed=False),
    "/api/v1/services/": Case(_page("/api/v1/services/"), keyed=False),
    "/api/v1/departures/": Case(_page("/api/v1/departures/"), keyed=False),
    "/api/v1/vessel-calls/": Case(_page("/api/v1/vessel-calls/"), keyed=False),
    "/api/v1/connections/": Case(
        lambda w, n: f"/api/v1/connections/?station={w.station}&containers=42G1:1&vessel_call="
        + (w.near_call if n == PAGE_SIZES[0] else w.far_call),
        keyed=False,
        items=len,
        most=50,  # bookings/selectors.py connections_search(limit=50)
    ),
    "/api/v1/api-keys/": Case(_page("/api/v1/api-keys/")),
    "/api/v1/bookings/": Case(_page("/api/v1/bookings/")),
    "/api/v1/arrivals/": Case(_page("/api/v1/arrivals/")),
    "/api/v1/import-containers/": Case(_page("/api/v1/import-containers/")),
    "/api/v1/bookings/{reference}/containers/": Case(
        lambda w, n: f"/api/v1/bookings/{_booking(w, n).reference}/containers/", items=len
    ),
    "/api/v1/bookings/{reference}/empty-requests/": Case(
        lambda w, n: f"/api/v1/bookings/{_booking(w, n).reference}/empty-requests/", items=len
    ),
    "/api/v1/declarations/": Case(_page("/api/v1/declarations/")),
    "/api/v1/events/": Case(_page("/api/v1/events/")),
    "/api/dcsa/tnt/v2/events": Case(lambda w, n: f"/api/dcsa/tnt/v2/events?limit={n}", items=len),
    "/api/v1/subscriptions/": Case(_page("/api/v1/subscriptions/")),
    "/api/v1/webhook-deliveries/": Case(_page("/api/v1/webhook-deliveries/")),
    "/api/v1/notifications/": Case(_page("/api/v1/notifications/"), signed_in=True),
    "/api/dcsa/tnt/v2/event-subscriptions": Case(lambda w, n: f"/api/dcsa/tnt/v2/event-subscriptions?limit={n}",
                                                 items=len),
    # DCSA Commercial Schedules: routes from the stations of CNYIU (the connections' station among them) to
    # Rotterdam; Ningbo's one terminal here, and its calls (all of one unpublished service) by place.
    "/api/dcsa/cs/v1/point-to-point-routes": Case(
        lambda w, n: f"/api/dcsa/cs/v1/point-to-point-routes?placeOfReceipt=CNYIU&placeOfDelivery=NLRTM&limit={n}",
        keyed=False, items=len),
    "/api/dcsa/cs/v1/port-schedules": Case(
        lambda w, n: f"/api/dcsa/cs/v1/port-schedules?UNLocationCode=CNNGB&date={_today()}&limit={n}",
        keyed=False, items=len, most=1),
    "/api/dcsa/cs/v1/vessel-schedules": Case(
        lambda w, n: f"/api/dcsa/cs/v1/vessel-schedules?UNLocationCode=CNNGB&limit={n}",
        keyed=False, items=len, most=1),
}


def _today() -> str:
    from django.utils import timezone

    return str(timezone.localdate())


@dataclass
class Measured:
    path: str
    expected: dict[int, int]  # page size -> items there are to answer
    queries: dict[int, int]  # page size -> SQL statements of one request
    items: dict[int, int]  # page size -> items answered
    statuses: dict[int, int]

    @property
    def problems(self) -> list[str]:
        found = []
        for n in PAGE_SIZES:
            if self.statuses[n] != 200:
                found.append(f"HTTP {self.statuses[n]} at page size {n}")
            elif self.items[n] != self.expected[n]:
                found.append(f"{self.items[n]} items answered at page size {n}, not {self.expected[n]}")
        if len(set(self.queries.values())) != 1:
            found.append(f"queries grow with the page: {self.queries}")
        if max(self.queries.values()) > QUERY_LIMIT:
            found.append(f"{max(self.queries.values())} queries > {QUERY_LIMIT}")
        return found


def measure(world: World, path: str) -> Measured:
    """One request per page size, after one to warm up (an API key records its use once a minute)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    case = CASES[path]
    client = APIClient()
    if case.signed_in:
        client.force_login(world.person)
    elif case.keyed:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.shipper_key}")
    client.get(case.url(world, PAGE_SIZES[0]))
    queries, items, statuses = {}, {}, {}
    for n in PAGE_SIZES:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(case.url(world, n))
        queries[n] = len(captured.captured_queries)
        statuses[n] = response.status_code
        items[n] = case.items(response.json()) if response.status_code == 200 else 0
    expected = {n: case.expected(n) for n in PAGE_SIZES}
    return Measured(path=path, expected=expected, queries=queries, items=items, statuses=statuses)
