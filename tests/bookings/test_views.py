"""Booking pages: the wizard end to end, my bookings, a booking's page and its changes, and who sees what."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings import services
from bookings.models import Booking, BookingChange, BookingStatus
from stations.models import Departure
from tests import factories
from tests.bookings.conftest import book

pytestmark = pytest.mark.django_db

NEW = "/bookings/new/"


def booked_teu(departure) -> int:
    return Departure.objects.get(pk=departure.pk).booked_teu


def search_params(connecting, **extra) -> dict:
    return {"station": "YIWU-W", "vessel_call": connecting.vessel_call.reference, "st1": "42G1", "q1": "2", **extra}


def choice_params(connecting, **extra) -> dict:
    return search_params(
        connecting, departure=connecting.departure.reference, vessel=connecting.vessel_call.reference, **extra
    )


CARGO = {
    "cargo-destination": "NLRTM",
    "cargo-commodity": "Christmas decorations",
    "cargo-cargo_weight_kg": "18000",
    "cargo-un_number": "",
    "cargo-imdg_class": "",
    "cargo-free_days": "7",
}


def snapshot(booking) -> tuple:
    booking.refresh_from_db()
    return booking.status, booking.teu, booking.vessel_call_id, booked_teu(booking.departure), booking.changes.count()


# --- The wizard ------------------------------------------------------------------------------------------


def test_the_wizard_finds_prices_and_confirms_a_booking(client, shipper, connecting):
    client.force_login(shipper.user)

    start = client.get(NEW)
    found = client.get(NEW, search_params(connecting, step="connections"))
    cargo_step = client.get(NEW, choice_params(connecting, step="cargo"))
    review = client.post(NEW, {**choice_params(connecting), **CARGO, "step": "review"})
    nothing_yet = Booking.objects.exists()
    done = client.post(NEW, {**choice_params(connecting), **CARGO, "step": "confirm"})

    assert start.status_code == 200
    assert 'name="station"' in start.content.decode()
    listed = found.content.decode()
    assert found.context["step"] == "connections"
    assert f'data-departure="{connecting.departure.reference}"' in listed
    assert "5,460.00" in listed  # 2 x (2,200 + 380 + 150) CNY
    assert "8,800.00" in listed  # by road
    assert "3,340.00" in listed  # the saving
    assert cargo_step.context["step"] == "cargo"
    assert 'name="cargo-commodity"' in cargo_step.content.decode()
    assert cargo_step.context["cargo_form"]["destination"].value() == "NLRTM"
    assert "cargo-reefer_setpoint_c" not in cargo_step.content.decode()
    assert review.context["step"] == "review"
    assert "Confirm booking" in review.content.decode()
    assert "Christmas decorations" in review.content.decode()
    assert not nothing_yet

    booking = Booking.objects.get()
    assert done.status_code == 302
    assert done["Location"] == reverse("bookings:detail", args=[booking.reference])
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.shipper == shipper.org
    assert booking.created_by == shipper.user
    assert booking.departure == connecting.departure
    assert booking.destination_id == "NLRTM"
    assert booked_teu(connecting.departure) == 4
    page = client.get(done["Location"])
    assert f"Booking {booking.reference} confirmed." in page.content.decode()


def test_a_double_click_on_confirm_books_once(client, shipper, connecting):
    client.force_login(shipper.user)
    review = client.post(NEW, {**choice_params(connecting), **CARGO, "step": "review"})
    token = review.context["submission"]

    first = client.post(NEW, {**choice_params(connecting), **CARGO, "step": "confirm", "submission": token})
    second = client.post(NEW, {**choice_params(connecting), **CARGO, "step": "confirm", "submission": token})

    booking = Booking.objects.get()
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"] == reverse("bookings:detail", args=[booking.reference])
    assert booked_teu(connecting.departure) == 4
    assert f'name="submission" value="{token}"' in review.content.decode()


def test_a_reefer_request_asks_for_the_set_point(client, shipper, connecting):
    client.force_login(shipper.user)
    choice = choice_params(connecting, st1="45R1", q1="1")

    cargo_step = client.get(NEW, {**choice, "step": "cargo"})
    missing = client.post(NEW, {**choice, **CARGO, "step": "review"})

    assert 'name="cargo-reefer_setpoint_c"' in cargo_step.content.decode()
    assert missing.context["step"] == "cargo"
    assert "reefer_setpoint_c" in missing.context["cargo_form"].errors


def test_a_search_without_vessel_or_destination_is_sent_back_with_the_reason(client, shipper, connecting):
    client.force_login(shipper.user)

    response = client.get(NEW, {"station": "YIWU-W", "st1": "42G1", "q1": "2", "step": "connections"})

    assert response.context["step"] == "search"
    assert "Choose a vessel call, or a destination port." in response.content.decode()


def test_a_search_by_destination_lists_the_vessels_that_call_there(client, shipper, connecting):
    client.force_login(shipper.user)

    response = client.get(NEW, {"station": "YIWU-W", "destination": "NLRTM", "st1": "22G1", "q1": "1",
                                "step": "connections"})

    assert response.status_code == 200
    assert [group["call"] for group in response.context["groups"]] == [connecting.vessel_call]


def test_step_one_names_each_vessels_destinations(client, shipper, connecting):
    client.force_login(shipper.user)

    form = client.get(NEW).context["form"]

    labels = dict(form.fields["vessel_call"].choices)
    label = labels[connecting.vessel_call.reference]
    destinations = list(connecting.vessel_call.destinations.all())
    assert destinations and all(place.name in label.split("→")[1] for place in destinations)


def test_containers_no_departure_has_room_for_are_offered_in_parts_each_booked_on_its_own(client, shipper,
                                                                                            connecting):
    network, call = connecting.network, connecting.vessel_call
    Departure.objects.filter(service=network.yiwu_rail).update(booked_teu=F("capacity_teu") - 40)
    client.force_login(shipper.user)

    response = client.get(NEW, {"station": "YIWU-W", "vessel_call": call.reference, "st1": "42G1", "q1": "30",
                                "step": "connections"})

    assert response.context["groups"] == []
    [split] = response.context["splits"]
    assert split["call"] == call
    assert [part["lines"] for part in split["parts"]] == [{"42G1": 20}, {"42G1": 10}]
    first, second = (part["departure"] for part in split["parts"])
    assert first.planned_departure < second.planned_departure
    cargo = client.get(split["parts"][1]["url"])
    assert cargo.status_code == 200
    assert cargo.context["step"] == "cargo"
    assert f"data-split-part=\"{first.reference}\"" in response.content.decode()


def test_a_refusal_on_confirm_shows_the_reason_and_books_nothing(client, shipper, connecting):
    client.force_login(shipper.user)
    Departure.objects.filter(pk=connecting.departure.pk).update(booked_teu=F("capacity_teu"))

    response = client.post(NEW, {**choice_params(connecting), **CARGO, "step": "confirm"})

    assert response.status_code == 409
    assert response.context["step"] == "review"
    assert "0 TEU free" in response.content.decode()
    assert not Booking.objects.exists()
    assert booked_teu(connecting.departure) == connecting.departure.capacity_teu


def test_a_draft_saved_in_the_wizard_is_confirmed_on_its_page(client, shipper, connecting):
    client.force_login(shipper.user)

    client.post(NEW, {**choice_params(connecting), **CARGO, "step": "draft"})
    booking = Booking.objects.get()
    held_as_draft = booked_teu(connecting.departure)
    response = client.post(reverse("bookings:confirm", args=[booking.reference]))

    booking.refresh_from_db()
    assert held_as_draft == 0
    assert response.status_code == 302
    assert booking.status == BookingStatus.CONFIRMED
    assert booked_teu(connecting.departure) == 4


def test_only_shippers_book(client, network):
    client.force_login(factories.user(network.operator))

    response = client.get(NEW)

    assert response.status_code == 403
    assert "Booking is for shippers and forwarders" in response.content.decode()


@pytest.mark.parametrize("url", ["/bookings/", "/bookings/new/", "/bookings/BK-2026-000001/"])
def test_anonymous_visitors_are_sent_to_log_in(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- My bookings -----------------------------------------------------------------------------------------


def test_my_bookings_lists_only_my_own(client, shipper, other_shipper, connecting):
    mine = book(shipper.actor, connecting, lines={"42G1": 2, "22G1": 1})
    theirs = book(other_shipper.actor, connecting)
    client.force_login(shipper.user)

    response = client.get("/bookings/")

    html = response.content.decode()
    assert response.status_code == 200
    # Each listed booking links to its page; a reference alone may also be the search box's example
    # (BK-2026-000123), which a booking of the suite's is given now and then.
    assert f"/bookings/{mine.reference}/" in html
    assert f"/bookings/{theirs.reference}/" not in html
    assert "2 x 42G1, 1 x 22G1" in html
    assert "7,340.00" in html


def test_my_bookings_filters_by_status(client, shipper, connecting):
    kept = book(shipper.actor, connecting)
    dropped = services.booking_cancel(actor=shipper.actor, booking=book(shipper.actor, connecting))
    client.force_login(shipper.user)

    cancelled = client.get("/bookings/", {"status": "cancelled"})
    confirmed = client.get("/bookings/", {"status": "confirmed"})

    assert [b.reference for b in cancelled.context["bookings"]] == [dropped.reference]
    assert [b.reference for b in confirmed.context["bookings"]] == [kept.reference]


def test_an_empty_list_offers_to_book(client, shipper, network):
    client.force_login(shipper.user)

    response = client.get("/bookings/")

    assert "You have no bookings yet." in response.content.decode()
    assert reverse("bookings:new") in response.content.decode()


def test_my_bookings_takes_the_same_queries_for_3_or_10_bookings(
    client, shipper, connecting, django_assert_max_num_queries
):
    client.force_login(shipper.user)
    for _ in range(3):
        book(shipper.actor, connecting, lines={"22G1": 1, "42G1": 1})
    with CaptureQueriesContext(connection) as three:
        client.get("/bookings/")
    for _ in range(7):
        book(shipper.actor, connecting, lines={"22G1": 1, "42G1": 1})

    with django_assert_max_num_queries(len(three)):
        response = client.get("/bookings/")

    assert len(response.context["bookings"]) == 10


def test_station_staff_see_bookings_at_their_station_without_prices(client, shipper, connecting):
    booking = book(shipper.actor, connecting)
    client.force_login(factories.user(connecting.network.operator))

    response = client.get("/bookings/")

    html = response.content.decode()
    assert booking.reference in html
    assert "Bookings at your stations" in html
    assert "5,460.00" not in html


# --- A booking's page ------------------------------------------------------------------------------------


def test_the_shipper_sees_the_quote_and_history(client, shipper, connecting):
    booking = book(shipper.actor, connecting)
    client.force_login(shipper.user)

    response = client.get(reverse("bookings:detail", args=[booking.reference]))

    html = response.content.decode()
    assert response.status_code == 200
    assert booking.reference in html
    assert "badge-confirmed" in html
    assert "5,460.00" in html
    assert "3,340.00" in html
    assert connecting.vessel_call.voyage in html
    assert "Cancel booking" in html
    assert [row.kind for row in response.context["booking"].changes.all()] == ["created", "confirmed"]


def test_the_station_operator_sees_the_booking_but_not_its_price(client, shipper, connecting):
    booking = book(shipper.actor, connecting)
    client.force_login(factories.user(connecting.network.operator))

    response = client.get(reverse("bookings:detail", args=[booking.reference]))

    html = response.content.decode()
    assert response.status_code == 200
    assert booking.reference in html
    assert "Christmas decorations" in html
    assert "5,460.00" not in html
    assert "Total price" not in html
    assert "Cancel booking" not in html


def test_the_station_operator_may_not_change_a_booking(client, shipper, connecting):
    booking = book(shipper.actor, connecting)
    before = snapshot(booking)
    client.force_login(factories.user(connecting.network.operator))

    response = client.post(reverse("bookings:cancel", args=[booking.reference]), {"cancel-reason": "no"})

    assert response.status_code == 403
    assert snapshot(booking) == before


def test_another_shipper_gets_404_on_every_page_and_changes_nothing(client, shipper, other_shipper, connecting):
    booking = book(shipper.actor, connecting)
    later = factories.vessel_call(connecting.network.beilun, etd=connecting.vessel_call.etd + timedelta(days=7))
    before = snapshot(booking)
    client.force_login(other_shipper.user)
    ref = booking.reference

    responses = [
        client.get(reverse("bookings:detail", args=[ref])),
        client.post(reverse("bookings:confirm", args=[ref])),
        client.post(reverse("bookings:cancel", args=[ref]), {"cancel-reason": "mine now"}),
        client.post(reverse("bookings:amend", args=[ref]), {"amend-qty_42G1": "1"}),
        client.post(reverse("bookings:roll", args=[ref]), {"roll-vessel_call": later.reference, "roll-reason": "x"}),
        client.post(reverse("bookings:add-container", args=[ref]),
                    {"container-number": "CSQU3054383", "container-size_type": "42G1"}),
    ]

    assert [r.status_code for r in responses] == [404] * 6
    assert not booking.containers.exists()
    assert snapshot(booking) == before


def test_cancelling_on_the_page_frees_the_teu(client, shipper, connecting):
    booking = book(shipper.actor, connecting)
    client.force_login(shipper.user)

    response = client.post(reverse("bookings:cancel", args=[booking.reference]), {"cancel-reason": "Order withdrawn"})

    booking.refresh_from_db()
    assert response.status_code == 302
    assert booking.status == BookingStatus.CANCELLED
    assert booked_teu(connecting.departure) == 0
    assert booking.changes.last().reason == "Order withdrawn"
    assert f"Booking {booking.reference} cancelled." in client.get(response["Location"]).content.decode()


def test_amending_quantities_on_the_page_moves_the_teu(client, shipper, connecting):
    booking = book(shipper.actor, connecting)
    client.force_login(shipper.user)

    response = client.post(
        reverse("bookings:amend", args=[booking.reference]), {"amend-qty_42G1": "3", "amend-reason": "More stock"}
    )

    booking.refresh_from_db()
    assert response.status_code == 302
    assert booking.teu == 6
    assert booked_teu(connecting.departure) == 6
    page = client.get(response["Location"]).content.decode()
    assert "2 x 42G1" in page and "3 x 42G1" in page  # the history's before -> after


def test_amending_to_another_departure_moves_the_slots(client, shipper, connecting):
    booking = book(shipper.actor, connecting)
    earlier = Departure.objects.get(
        service=connecting.departure.service, service_date=connecting.departure.service_date - timedelta(days=1)
    )
    client.force_login(shipper.user)

    response = client.post(reverse("bookings:amend", args=[booking.reference]), {"amend-departure": earlier.reference})

    booking.refresh_from_db()
    assert response.status_code == 302
    assert booking.departure == earlier
    assert booked_teu(connecting.departure) == 0
    assert booked_teu(earlier) == 4


def test_an_amendment_the_departure_cannot_take_is_shown_and_changes_nothing(client, shipper, connecting):
    booking = book(shipper.actor, connecting)
    before = snapshot(booking)
    client.force_login(shipper.user)

    response = client.post(reverse("bookings:amend", args=[booking.reference]), {"amend-qty_42G1": "60"})

    assert response.status_code == 409
    assert "TEU free" in response.content.decode()
    assert snapshot(booking) == before


def test_rolling_on_the_page_changes_the_vessel_and_shows_in_the_history(client, shipper, connecting):
    booking = book(shipper.actor, connecting)
    later = factories.vessel_call(
        connecting.network.beilun, etd=connecting.vessel_call.etd + timedelta(days=7), vessel_name="Demo Star"
    )
    client.force_login(shipper.user)

    response = client.post(
        reverse("bookings:roll", args=[booking.reference]),
        {"roll-vessel_call": later.reference, "roll-reason": "Vessel omitted Ningbo"},
    )

    booking.refresh_from_db()
    assert response.status_code == 302
    assert booking.vessel_call == later
    assert booking.original_vessel_call == connecting.vessel_call
    assert booked_teu(connecting.departure) == 4
    page = client.get(response["Location"]).content.decode()
    assert "Demo Star" in page
    assert "Rolled" in page
    assert "Vessel omitted Ningbo" in page
    assert BookingChange.objects.filter(booking=booking, kind="rolled").exists()


def test_the_shipper_requests_empties_and_follows_the_journey_on_the_booking_page(client, shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    client.force_login(shipper.user)

    asked = client.post(f"/bookings/{booking.reference}/empties/", {"empties-size_type": "42G1",
                                                                    "empties-quantity": "2"})
    too_many = client.post(f"/bookings/{booking.reference}/empties/", {"empties-size_type": "42G1",
                                                                       "empties-quantity": "1"})
    page = client.get(f"/bookings/{booking.reference}/")

    html = page.content.decode()
    assert asked.status_code == 302
    assert booking.empty_requests.get().quantity == 2
    assert too_many.status_code == 400
    assert "0 more" in too_many.content.decode()
    assert 'data-step="train_departs"' in html
    assert "data-empty-request=" in html


def test_a_delayed_booking_shows_at_risk_on_its_page(client, shipper, connecting):
    booking = book(shipper.actor, connecting)
    Departure.objects.filter(pk=connecting.departure.pk).update(estimated_arrival=connecting.vessel_call.cy_cutoff)
    client.force_login(shipper.user)

    html = client.get(f"/bookings/{booking.reference}/").content.decode()

    assert "data-at-risk" in html


def test_another_shipper_cannot_request_empties(client, shipper, other_shipper, connecting):
    booking = book(shipper.actor, connecting)
    client.force_login(other_shipper.user)

    response = client.post(f"/bookings/{booking.reference}/empties/", {"empties-size_type": "42G1",
                                                                       "empties-quantity": "1"})

    assert response.status_code == 404
    assert not booking.empty_requests.exists()


def test_bookings_at_risk_are_flagged_in_the_list(client, shipper, connecting):
    late = book(shipper.actor, connecting)
    Departure.objects.filter(pk=connecting.departure.pk).update(estimated_arrival=connecting.vessel_call.cy_cutoff)
    client.force_login(shipper.user)

    html = client.get("/bookings/").content.decode()

    assert late.reference in html
    assert html.count("data-at-risk-badge") == 1


def test_the_shipper_enters_its_own_container_numbers_on_the_booking_page(client, shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    client.force_login(shipper.user)
    url = reverse("bookings:add-container", args=[booking.reference])
    assert url in client.get(reverse("bookings:detail", args=[booking.reference])).content.decode()

    bad_digit = client.post(url, {"container-number": "CSQU3054384", "container-size_type": "42G1"})
    added = client.post(url, {"container-number": "csqu 305438-3", "container-size_type": "42G1",
                              "container-seal_number": "sl1234"})
    twice = client.post(url, {"container-number": "CSQU3054383", "container-size_type": "42G1"})
    client.post(url, {"container-number": "TCNU7200794", "container-size_type": "42G1"})
    full = client.get(reverse("bookings:detail", args=[booking.reference])).content.decode()

    assert bad_digit.status_code == 400 and bad_digit.context["container_form"].errors["number"]
    assert added.status_code == 302
    assert twice.status_code == 409 and "CSQU3054383" in str(twice.context["container_form"].non_field_errors())
    assert list(booking.containers.values_list("number", "seal_number")) == [("CSQU3054383", "SL1234"),
                                                                              ("TCNU7200794", "")]
    assert 'id="own-container"' not in full  # every booked container has its number: nothing more to enter
    asked = client.post(f"/bookings/{booking.reference}/empties/", {"empties-size_type": "42G1",
                                                                    "empties-quantity": "1"})
    assert asked.status_code == 400 and not booking.empty_requests.exists()  # no empty needed for its own


def test_station_staff_do_not_get_the_shippers_container_form(client, shipper, connecting):
    booking = book(shipper.actor, connecting)
    client.force_login(factories.user(connecting.network.operator))

    page = client.get(reverse("bookings:detail", args=[booking.reference])).content.decode()
    posted = client.post(reverse("bookings:add-container", args=[booking.reference]),
                         {"container-number": "CSQU3054383", "container-size_type": "42G1"})

    assert 'id="own-container"' not in page
    assert posted.status_code == 403 and not booking.containers.exists()


def test_the_bookings_list_sorts_by_a_column_both_ways_and_keeps_the_filters(client, shipper, connecting):
    first = book(shipper.actor, connecting, lines={"42G1": 2})
    second = book(shipper.actor, connecting, lines={"22G1": 1})
    third = book(shipper.actor, connecting, lines={"42G1": 3})
    client.force_login(shipper.user)

    by_teu = client.get("/bookings/", {"sort": "teu", "status": "confirmed"})
    by_teu_down = client.get("/bookings/", {"sort": "-teu", "status": "confirmed"})
    unknown = client.get("/bookings/", {"sort": "shipper__password"})

    assert [b.reference for b in by_teu.context["bookings"]] == [second.reference, first.reference, third.reference]
    assert [b.reference for b in by_teu_down.context["bookings"]] == [third.reference, first.reference,
                                                                       second.reference]
    header = by_teu.context["sort"].headers["teu"]
    assert header["state"] == "ascending" and "sort=-teu" in header["url"] and "status=confirmed" in header["url"]
    assert 'aria-sort="ascending"' in by_teu.content.decode()
    assert unknown.status_code == 200
    assert [b.reference for b in unknown.context["bookings"]] == [third.reference, second.reference,
                                                                   first.reference]  # newest first, as without
