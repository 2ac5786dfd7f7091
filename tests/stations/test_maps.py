"""The network map: an SVG drawn from the stations' and terminals' coordinates (no tiles, no CDN), on every
home page, and on a booking's page and the tracking pages with its route picked out and its containers' place
along it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from intermodal.access import Actor
from journey import services as journey
from stations.maps import MARGIN, WIDTH, network_map
from stations.models import Departure
from tests import factories
from tests.bookings import test_journey
from tests.bookings.conftest import book
from tests.bookings.test_journey import NUMBERS, to_station

pytestmark = pytest.mark.django_db
parties = test_journey.parties


def place(obj, latitude, longitude):
    obj.latitude, obj.longitude = Decimal(str(latitude)), Decimal(str(longitude))
    obj.save(update_fields=["latitude", "longitude"])


@pytest.fixture
def placed(network):
    place(network.yiwu, 29.33, 120.02)
    place(network.jinhua, 29.11, 119.72)
    place(network.beilun, 29.93, 121.88)
    return network


def test_every_placed_station_and_terminal_is_drawn_inside_the_map_with_its_services(placed):
    unplaced = factories.station("NOWHERE")

    drawn = network_map(focus={"YIWU-W"})

    dots = {dot.code: dot for dot in drawn.dots}
    assert set(dots) == {"YIWU-W", "JINHUA-E", "BEILUN"} and unplaced.code not in dots
    assert all(MARGIN - 1 <= dot.x <= WIDTH - MARGIN + 1 and MARGIN - 1 <= dot.y <= drawn.height for dot in
               dots.values())
    assert dots["BEILUN"].x > dots["YIWU-W"].x > dots["JINHUA-E"].x  # east is right
    assert dots["YIWU-W"].y < dots["JINHUA-E"].y  # north is up
    assert dots["YIWU-W"].focus and dots["YIWU-W"].label and not dots["JINHUA-E"].label
    assert {(line.station, line.terminal) for line in drawn.lines} == {("YIWU-W", "BEILUN"), ("JINHUA-E", "BEILUN")}


def test_a_route_is_picked_out_with_the_containers_place_along_it(placed):
    drawn = network_map(route=("YIWU-W", "BEILUN"), progress=0.5)

    line = drawn.route
    assert (line.station, line.terminal) == ("YIWU-W", "BEILUN")
    assert drawn.marker == (round((line.x1 + line.x2) / 2, 1), round((line.y1 + line.y2) / 2, 1))


def test_nothing_placed_draws_no_map(network):
    assert network_map() is None


def test_the_home_page_and_the_booking_page_show_the_map(client, shipper, connecting, placed):
    booking = book(shipper.actor, connecting)
    client.force_login(shipper.user)

    home = client.get("/").content.decode()
    at_station = client.get(f"/bookings/{booking.reference}/")
    departure = connecting.departure
    railway = Actor(organisation=placed.railway, user=factories.user(placed.railway))
    journey.train_depart(actor=railway, departure=departure, at=timezone.now() - timedelta(hours=2), confirmed=True)
    Departure.objects.filter(pk=departure.pk).update(estimated_arrival=timezone.now() + timedelta(hours=2))
    on_the_way = client.get(f"/bookings/{booking.reference}/")

    assert "data-network-map" in home and 'data-map-station="YIWU-W"' in home
    assert 'data-route="YIWU-W:BEILUN"' in at_station.content.decode()
    start, moving = at_station.context["map"], on_the_way.context["map"]
    assert start.marker == (start.route.x1, start.route.y1)  # still at the station
    assert 0.3 < (moving.marker[0] - moving.route.x1) / (moving.route.x2 - moving.route.x1) < 0.7


def test_the_map_around_the_port_leaves_the_far_west_out_and_counts_it(placed):
    far = factories.station("URUMQI")
    place(far, 43.90, 87.53)
    factories.service(far, placed.beilun, placed.railway, code="URUMQI-BLG-R")

    whole = network_map()
    near = network_map(near_port=True)

    assert "URUMQI" in {dot.code for dot in whole.dots}
    assert "URUMQI" not in {dot.code for dot in near.dots} and near.left_out == 1
    assert all(line.station != "URUMQI" for line in near.lines)


def test_the_tracking_pages_show_where_the_container_is_on_its_route(client, shipper, connecting, parties, placed):
    booking, _request = to_station(shipper, connecting, parties, count=1)
    journey.train_load(actor=parties["station"], number=NUMBERS[0], confirmed=True)
    journey.train_depart(actor=parties["railway"], departure=connecting.departure, confirmed=True,
                         at=timezone.now() - timedelta(hours=2))
    Departure.objects.filter(pk=connecting.departure.pk).update(estimated_arrival=timezone.now() + timedelta(hours=2))
    client.force_login(shipper.user)

    signed_in = client.get("/operations/track/", {"q": NUMBERS[0]})
    client.logout()
    public = client.get("/track/", {"container": NUMBERS[0], "booking": booking.reference})
    nothing = client.get("/track/", {"container": NUMBERS[0], "booking": "BK-NOT-THIS"})

    for response in (signed_in, public):
        page, drawn = response.content.decode(), response.context["map"]
        assert 'data-route="YIWU-W:BEILUN"' in page and "data-container-position" in page
        assert 0.3 < (drawn.marker[0] - drawn.route.x1) / (drawn.route.x2 - drawn.route.x1) < 0.7  # on the train
    assert nothing.status_code == 404 and "data-network-map" not in nothing.content.decode()


def test_the_names_of_stations_close_together_do_not_print_over_each_other(placed):
    near = factories.station("YIWU-N")
    place(near, 29.36, 120.05)  # a few kilometres from Yiwu West

    drawn = network_map(focus={"YIWU-W", "YIWU-N"})

    labels = sorted((dot for dot in drawn.dots if dot.label), key=lambda dot: dot.label_y)
    assert [dot.code for dot in labels] == ["YIWU-N", "YIWU-W"]
    assert labels[1].label_y - labels[0].label_y >= 18  # one line apart
    assert all(dot.label_shift == 0 for dot in drawn.dots if not dot.label)
