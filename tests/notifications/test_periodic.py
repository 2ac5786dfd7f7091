"""The periodic checks for people: bookings at risk of missing their vessel, the last free day."""

from datetime import timedelta

import pytest
from django.utils import timezone

from intermodal.access import Actor
from journey import services as journey
from notifications.models import Notification, NotificationKind
from notifications.people import at_risk_alerts, last_free_day_reminders
from stations.models import Departure
from tests import factories
from tests.bookings.conftest import book

pytestmark = pytest.mark.django_db


def test_a_delay_that_misses_the_cut_off_alerts_the_shipper_once_with_the_next_departure_that_works(
        shipper, network):
    call = network.vessel_call
    connecting = list(Departure.objects.filter(
        service=network.yiwu_rail, planned_arrival__lte=call.latest_arrival_for(), closing_time__gt=timezone.now(),
    ).order_by("planned_departure"))
    booked = connecting[0]
    from types import SimpleNamespace

    booking = book(shipper.actor, SimpleNamespace(departure=booked, vessel_call=call))
    assert at_risk_alerts() == 0

    railway = Actor(organisation=network.railway, user=factories.user(network.railway))
    journey.departure_estimate(actor=railway, departure=booked, reason="Line works",
                               estimated_arrival=call.cy_cutoff + timedelta(hours=2))
    assert at_risk_alerts() == 1
    assert at_risk_alerts() == 0  # told once per estimate

    alert = Notification.objects.get(user=shipper.user, kind=NotificationKind.BOOKING_AT_RISK)
    assert alert.params["booking"] == booking.reference
    assert alert.params["alternative"].split(" ")[0] in {d.reference for d in connecting[1:]}
    assert alert.link == f"/bookings/{booking.reference}/"

    # A new, still later estimate is news again.
    journey.departure_estimate(actor=railway, departure=booked, estimated_arrival=call.cy_cutoff + timedelta(hours=9))
    assert at_risk_alerts() == 1
    assert Notification.objects.filter(kind=NotificationKind.BOOKING_AT_RISK).count() == 2


def test_a_booking_on_time_is_not_alerted(shipper, connecting):
    book(shipper.actor, connecting)
    assert at_risk_alerts() == 0
    assert not Notification.objects.filter(kind=NotificationKind.BOOKING_AT_RISK).exists()


def test_the_last_free_day_is_reminded_the_day_before_once(shipper, connecting):
    booking = book(shipper.actor, connecting, free_days=3)
    today = timezone.localdate()
    assert booking.last_free_day == today + timedelta(days=2)
    assert last_free_day_reminders(today=today) == 0
    assert last_free_day_reminders(today=today + timedelta(days=1)) == 1
    last_free_day_reminders(today=today + timedelta(days=1))
    reminder = Notification.objects.get(user=shipper.user, kind=NotificationKind.LAST_FREE_DAY)
    assert reminder.params["day"] == (today + timedelta(days=2)).isoformat()
