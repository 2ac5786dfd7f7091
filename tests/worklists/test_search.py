"""The search box on every page finds a container, booking, declaration, B/L, train or vessel call by its number,
among what the organisation may see: one match opens its page, another organisation's object is not found."""

import pytest
from django.test import Client

from bookings import services as booking_services
from intermodal.models import PartyKind
from tests import factories
from tests.bookings.conftest import book
from tests.bookings.test_operations_views import person
from tests.customs.conftest import NUMBERS

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def search(user, q: str):
    return client_of(user).get("/search/", {"q": q})


def test_one_match_opens_its_page_whatever_the_spacing_and_case(shipper, connecting):
    booking = book(shipper.actor, connecting)
    booking_services.container_assign(actor=shipper.actor, booking=booking, number=NUMBERS[0], size_type="42G1")

    by_reference = search(shipper.user, f" {booking.reference.lower()} ")
    by_container = search(shipper.user, "csqu 305438 3")
    full_width = search(shipper.user, "ＣＳＱＵ３０５４３８３")

    assert by_reference.status_code == 302 and by_reference.url == f"/bookings/{booking.reference}/"
    assert by_container.status_code == 302 and by_container.url == f"/operations/track/?q={NUMBERS[0]}"
    assert full_width.status_code == 302 and full_width.url == by_container.url
    assert client_of(shipper.user).get(by_container.url).status_code == 200


def test_a_declaration_a_train_and_a_vessel_call_are_found_by_the_parties_that_work_them(shipper, connecting):
    from tests.customs.conftest import draft

    network = connecting.network
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    declaration = draft(SimpleDeclared(booking, shipper), containers=[])
    departure, call = connecting.departure, connecting.vessel_call

    assert search(shipper.user, declaration.reference).url == f"/declarations/{declaration.reference}/"
    assert search(person(network.railway).user, departure.reference).url == \
        f"/operations/railway/{departure.reference}/"
    assert search(person(network.port).user, call.reference).url == f"/operations/port/vessel/{call.reference}/"
    assert search(person(network.operator).user, departure.reference).url.startswith("/operations/station/")


def test_another_organisations_objects_are_not_found(shipper, other_shipper, connecting):
    booking = book(shipper.actor, connecting)
    booking_services.container_assign(actor=shipper.actor, booking=booking, number=NUMBERS[0], size_type="42G1")
    other_railway = person(factories.organisation(PartyKind.RAILWAY, code="other-rail"))

    answers = [search(other_shipper.user, booking.reference), search(other_shipper.user, NUMBERS[0]),
               search(other_railway.user, connecting.departure.reference)]

    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert all(b"data-not-found" in answer.content for answer in answers)
    assert not any(b'data-found="' in answer.content for answer in answers)


def test_the_box_is_on_every_page_for_people_signed_in_and_bad_input_is_a_400(client, shipper, network):
    anonymous = client.get("/")
    signed_in = client_of(shipper.user).get("/bookings/")
    bad = search(shipper.user, "BK\x00")
    visitor = Client().get("/search/", {"q": "BK-2026-000001"})

    assert 'id="site-search"' not in anonymous.content.decode()
    assert 'id="site-search"' in signed_in.content.decode()
    assert bad.status_code == 400
    assert visitor.status_code == 302 and visitor.url.startswith("/login/")


class SimpleDeclared:
    """What tests.customs.conftest.draft needs of its `declared` fixture: the booking and its shipper."""

    def __init__(self, booking, shipper):
        self.booking, self.shipper = booking, shipper
