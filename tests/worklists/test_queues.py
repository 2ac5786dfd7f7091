"""Each party's home page starts with its work queue: what needs its action, most urgent and oldest first, each
item one click from the page that resolves it, and nothing of another organisation's work."""

from datetime import timedelta

import pytest
from django.test import Client

from bookings import services as booking_services
from customs import services as customs_services
from intermodal.access import Actor
from intermodal.models import PartyKind
from journey import services as journey
from journey.imports import import_gate_out
from stations.models import Departure
from tests import factories
from tests.bookings.conftest import book
from tests.bookings.test_operations_views import at_station, person
from tests.worklists.test_import_queues import announce_on, at_the_station, number, vessel
from worklists.queues import NOW, work_queue

pytestmark = pytest.mark.django_db


def kinds(queue) -> list[str]:
    return [item.kind for item in queue.items]


def opens(user, url: str) -> int:
    client = Client()
    client.force_login(user)
    return client.get(url).status_code


def declare(shipper, booking):
    return customs_services.declaration_create(
        actor=shipper.actor, booking=booking, trade_mode="0110", transport_mode="rail_vessel",
        lines=[factories.goods_line(gross_weight_kg=str(booking.cargo_weight_kg))],
        declarant_uscc=factories.VALID_USCC)


def test_a_shippers_queue_puts_what_is_late_first_and_each_item_opens_its_page(shipper, other_shipper, connecting):
    network = connecting.network
    station = Actor(organisation=network.operator, user=factories.user(network.operator))
    customs, _ciq = factories.inspection_offices(network.yiwu)
    draft = book(shipper.actor, connecting, confirm=False)
    undeclared = book(shipper.actor, connecting)
    with_empties = book(shipper.actor, connecting)
    request = booking_services.empty_request_create(actor=shipper.actor, booking=with_empties, size_type="42G1",
                                                    quantity=2)
    journey.empty_request_ready(actor=station, request=request)
    rejected = book(shipper.actor, connecting)
    declaration = customs_services.declaration_submit(actor=shipper.actor, declaration=declare(shipper, rejected))
    customs_services.declaration_decide(actor=Actor(organisation=customs, user=factories.user(customs)),
                                        declaration=declaration, kind="reject", reason="Invoice missing")
    late = book(shipper.actor, connecting)
    Departure.objects.filter(pk=connecting.departure.pk).update(
        estimated_arrival=connecting.vessel_call.cy_cutoff + timedelta(hours=6))

    queue = work_queue(shipper.actor)
    others = work_queue(other_shipper.actor)

    found = kinds(queue)
    assert {"booking_draft", "to_declare", "empties_ready", "declaration_rejected", "at_risk"} <= set(found)
    urgencies = [item.urgency for item in queue.items]
    assert urgencies == sorted(urgencies) and urgencies[0] == NOW
    texts = " ".join(f"{item.title} {item.detail} {item.url}" for item in queue.items)
    for booking in (draft, undeclared, with_empties, late):
        assert booking.reference in texts
    assert "Invoice missing" in texts  # the officer's message to the declarant
    assert others.items == [] and others.total == 0
    assert {opens(shipper.user, item.url) for item in queue.items} == {200}
    page = Client()
    page.force_login(shipper.user)
    html = page.get("/").content.decode()
    assert 'id="work"' in html and html.index('id="work"') < html.index('id="stations"')
    assert 'data-work="at_risk"' in html


def test_the_station_gets_empties_to_ready_and_hand_out_and_trains_to_load(shipper, connecting):
    network = connecting.network
    staff = person(network.operator)
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    request = booking_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1",
                                                    quantity=2)

    asked = work_queue(staff.actor)
    journey.empty_request_ready(actor=staff.actor, request=request)
    ready = work_queue(staff.actor)
    at_station(shipper, connecting, staff, ["CSQU3054383"])
    before_closing = work_queue(staff.actor, now=connecting.departure.closing_time - timedelta(hours=2))

    assert kinds(asked) == ["empties_requested"] and booking.reference in asked.items[0].title
    assert kinds(ready) == ["empties_to_hand_out"]
    assert "train_to_load" in kinds(before_closing)
    assert {opens(staff.user, item.url) for item in before_closing.items} == {200}
    assert work_queue(person(factories.organisation(PartyKind.STATION_OPERATOR)).actor).items == []


def test_the_railway_is_asked_to_report_departed_then_arrived(connecting):
    network, departure = connecting.network, connecting.departure
    rail = person(network.railway)

    before = work_queue(rail.actor, now=departure.planned_departure - timedelta(hours=1))
    due = work_queue(rail.actor, now=departure.planned_departure + timedelta(minutes=30))
    journey.train_depart(actor=rail.actor, departure=departure, at=departure.planned_departure, confirmed=True)
    on_the_way = work_queue(rail.actor, now=departure.planned_arrival + timedelta(hours=1))

    assert departure.reference not in " ".join(item.title for item in before.items)
    [to_depart] = [item for item in due.items if departure.reference in item.title]
    assert to_depart.kind == "train_to_depart" and to_depart.urgency == NOW
    assert [item.kind for item in on_the_way.items if departure.reference in item.title] == ["train_to_arrive"]
    assert opens(rail.user, to_depart.url) == 200
    assert work_queue(person(factories.organisation(PartyKind.RAILWAY)).actor, now=departure.planned_departure
                      + timedelta(minutes=30)).items == []


def test_the_port_is_asked_to_report_a_vessel_sailed_once_its_etd_passes(connecting):
    port = person(connecting.network.port)
    call = connecting.vessel_call

    before = work_queue(port.actor, now=call.etd - timedelta(hours=30))
    after = work_queue(port.actor, now=call.etd + timedelta(hours=1))

    assert "vessel_to_sail" not in kinds(before)
    [sail] = [item for item in after.items if item.kind == "vessel_to_sail"]
    assert call.vessel_name in sail.title and opens(port.user, sail.url) == 200


def test_each_agency_is_asked_to_decide_until_it_has_cleared(shipper, connecting):
    customs, ciq = (person(office) for office in factories.inspection_offices(connecting.network.yiwu))
    booking = book(shipper.actor, connecting)
    declaration = customs_services.declaration_submit(actor=shipper.actor, declaration=declare(shipper, booking))

    for officer in (customs, ciq):
        [item] = work_queue(officer.actor).items
        assert item.kind == "declaration_to_decide" and declaration.reference in item.title
        assert opens(officer.user, item.url) == 200
    customs_services.declaration_decide(actor=customs.actor, declaration=declaration, kind="clear", reason="OK")

    assert work_queue(customs.actor).items == []
    assert kinds(work_queue(ciq.actor)) == ["declaration_to_decide"]
    elsewhere = person(factories.organisation(PartyKind.CUSTOMS, code="customs-elsewhere"))
    assert work_queue(elsewhere.actor).items == []


def test_visitors_and_parties_without_a_queue_see_the_network_only(client, network):
    anonymous = client.get("/")
    client.force_login(factories.user(factories.organisation(PartyKind.LOCAL_GOVERNMENT, province="Zhejiang")))
    government = client.get("/")

    assert anonymous.context["work"] is None and 'id="work"' not in anonymous.content.decode()
    assert government.context["work"] is None


def test_the_shippers_home_takes_the_same_queries_for_one_or_four_bookings(client, shipper, connecting, corridor,
                                                                          django_assert_max_num_queries):
    client.force_login(shipper.user)
    book(shipper.actor, connecting)
    announce_on(corridor, corridor.call, [number(1)], shipper.org)  # and, as a consignee, one import to book
    with django_assert_max_num_queries(40) as one:
        client.get("/")
    for _ in range(3):
        book(shipper.actor, connecting)
        book(shipper.actor, connecting, confirm=False)
    announce_on(corridor, vessel(corridor, 2), [number(2), number(3)], shipper.org)
    at_the_station(corridor, [number(4), number(5), number(6)], held=[number(6)], consignee=shipper.actor,
                   call=vessel(corridor, 6))
    import_gate_out(actor=corridor.actors.station, number=number(4), confirmed=True)

    with django_assert_max_num_queries(len(one.captured_queries)):
        response = client.get("/")

    assert response.context["work"].total >= 10
    assert {"import_to_book", "import_available"} <= {item.kind for item in response.context["work"].items}
