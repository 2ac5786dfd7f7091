"""Free-time reminders for imports: the consignee is told the day before a container's last free day and once
when it has passed, for demurrage at the station and detention with the consignee, in the station's calendar
(Asia/Shanghai), exactly once per container, clock and stage - run twice, or on two workers at once. Time is
controlled by the `now` the check is given and the times the containers carry; nothing sleeps."""

import threading
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.utils import translation

from bookings.models import Container
from journey import imports
from notifications import people
from notifications.models import EmailPreference, Notification, NotificationKind
from notifications.people import free_time_reminders, notification_email
from notifications.people import title as title_in_language
from stations.models import CarrierDetention
from tests import factories
from tests.imports.conftest import NUMBERS
from tests.imports.test_import_steps import to_station


def title(notification, language: str = "en") -> str:
    """The notification's text in `language` (the one a page or e-mail renders it in), whatever an earlier test of
    the same worker left active."""
    with translation.override(language):
        return title_in_language(notification)

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
K = NotificationKind


def at(day: date, hour: int = 8, minute: int = 5) -> datetime:
    """A moment in Shanghai: by default when the beat schedule first runs the check that day."""
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def at_station(corridor, numbers=NUMBERS[:1]):
    """Import containers discharged at the station, held by customs (not declared): demurrage runs."""
    booking = to_station(corridor, numbers)
    for number in numbers:
        imports.station_discharge(actor=corridor.actors.station, number=number, confirmed=True)
    return booking


def told(kind=None):
    rows = Notification.objects.order_by("id")
    if kind:
        rows = rows.filter(kind=kind)
    return [(n.kind, n.params["container"], n.params["clock"], n.params["day"]) for n in rows]


def test_demurrage_is_reminded_the_day_before_the_last_free_day_and_once_it_passed(corridor):
    booking = at_station(corridor)
    container = Container.objects.get(number=NUMBERS[0], is_active=True)
    discharged = container.station_discharge_at.astimezone(SHANGHAI).date()
    last_free = discharged + timedelta(days=booking.free_days)  # Yiwu's 5 days, from the day after discharge
    number = NUMBERS[0]

    assert free_time_reminders(now=at(last_free - timedelta(days=2))) == 0
    assert free_time_reminders(now=at(last_free - timedelta(days=1))) == 1
    assert free_time_reminders(now=at(last_free - timedelta(days=1), 15)) == 0  # the next hour's run
    assert free_time_reminders(now=at(last_free)) == 0  # the last free day itself: told already
    assert told() == [(K.FREE_TIME_ENDING, number, "demurrage", last_free.isoformat())]
    assert free_time_reminders(now=at(last_free + timedelta(days=1))) == 1
    assert free_time_reminders(now=at(last_free + timedelta(days=9))) == 0
    assert told(K.FREE_TIME_PASSED) == [(K.FREE_TIME_PASSED, number, "demurrage", last_free.isoformat())]

    reminder = Notification.objects.get(kind=K.FREE_TIME_ENDING)
    assert reminder.user == corridor.actors.consignee.user and reminder.link == f"/bookings/{booking.reference}/"
    assert title(reminder) == (f"Container {number} (booking {booking.reference}): {last_free.isoformat()} is its "
                               "last free day at Yiwu West; from the day after, demurrage of CNY 150.00 a TEU a day.")
    passed = Notification.objects.get(kind=K.FREE_TIME_PASSED)
    assert "demurrage of CNY 150.00 a TEU a day accrues until it is picked up" in title(passed)


def test_a_missed_day_before_is_reminded_on_the_last_free_day_and_none_after_pick_up(corridor):
    booking = at_station(corridor, NUMBERS[:2])
    discharged = Container.objects.filter(booking=booking).first().station_discharge_at.astimezone(SHANGHAI).date()
    last_free = discharged + timedelta(days=booking.free_days)
    factories.declaration_released(booking)
    imports.import_gate_out(actor=corridor.actors.station, number=NUMBERS[1], confirmed=True)

    assert free_time_reminders(now=at(last_free)) == 1  # beat was down the day before: told on the day
    assert free_time_reminders(now=at(last_free + timedelta(days=1))) == 1
    # The one picked up is on detention now (14 days by default): nothing for its demurrage, nothing yet at all.
    assert {n[1] for n in told()} == {NUMBERS[0]}


def test_the_station_calendar_decides_across_a_month_end(corridor):
    """Discharged at 00:30 on 30 January in Shanghai (29 January in UTC) with one free day: the last free day is
    31 January; the passing is told at 00:30 on 1 February Shanghai time, still 31 January in UTC."""
    booking = at_station(corridor)
    booking.free_days = 1
    booking.save(update_fields=["free_days"])
    Container.objects.filter(number=NUMBERS[0], is_active=True).update(
        station_discharge_at=datetime(2026, 1, 29, 16, 30, tzinfo=ZoneInfo("UTC")))

    assert free_time_reminders(now=at(date(2026, 1, 29), 23, 0)) == 0
    assert free_time_reminders(now=at(date(2026, 1, 30))) == 1
    assert free_time_reminders(now=at(date(2026, 1, 31), 23, 59)) == 0
    assert free_time_reminders(now=datetime(2026, 1, 31, 16, 30, tzinfo=ZoneInfo("UTC"))) == 1
    assert told() == [(K.FREE_TIME_ENDING, NUMBERS[0], "demurrage", "2026-01-31"),
                      (K.FREE_TIME_PASSED, NUMBERS[0], "demurrage", "2026-01-31")]


def test_detention_by_the_carriers_terms_and_none_once_the_empty_is_back(corridor):
    CarrierDetention.objects.create(carrier_scac="COSU", free_days=3, per_teu_day=Decimal("80"))
    booking = at_station(corridor, NUMBERS[:2])
    factories.declaration_released(booking)
    for number in NUMBERS[:2]:
        imports.import_gate_out(actor=corridor.actors.station, number=number, confirmed=True)
    out = Container.objects.get(number=NUMBERS[0], is_active=True).delivered_at.astimezone(SHANGHAI).date()
    last_free = out + timedelta(days=3)
    Container.objects.filter(number=NUMBERS[1], is_active=True).update(
        delivered_at=datetime.combine(out, time(12), tzinfo=SHANGHAI))

    assert free_time_reminders(now=at(last_free - timedelta(days=1))) == 2
    imports.empty_return(actor=corridor.actors.station, number=NUMBERS[1], confirmed=True)
    assert free_time_reminders(now=at(last_free + timedelta(days=1))) == 1  # the one still with the consignee

    assert told() == [(K.FREE_TIME_ENDING, NUMBERS[0], "detention", last_free.isoformat()),
                      (K.FREE_TIME_ENDING, NUMBERS[1], "detention", last_free.isoformat()),
                      (K.FREE_TIME_PASSED, NUMBERS[0], "detention", last_free.isoformat())]
    passed = Notification.objects.get(kind=K.FREE_TIME_PASSED)
    assert "detention of CNY 80.00 a TEU a day accrues until it is returned empty" in title(passed)


def test_in_the_app_and_by_email_as_each_person_chose_in_their_language(corridor):
    consignee = corridor.actors.consignee.user
    consignee.email, consignee.language = "li@importer.example", "zh-hans"
    consignee.save()
    colleague = factories.user(corridor.consignee, username="wang", email="wang@importer.example")
    EmailPreference.objects.create(user=colleague, kind=K.FREE_TIME_ENDING, by_email=False)
    factories.user(corridor.other, username="stranger", email="s@other.example")
    booking = at_station(corridor)
    last_free = (Container.objects.get(number=NUMBERS[0], is_active=True).station_discharge_at
                 .astimezone(SHANGHAI).date() + timedelta(days=booking.free_days))

    free_time_reminders(now=at(last_free - timedelta(days=1)))

    reminders = Notification.objects.filter(kind=K.FREE_TIME_ENDING)
    assert sorted(reminders.values_list("user__username", flat=True)) == sorted([consignee.username, "wang"])
    for reminder in reminders:
        notification_email(reminder.pk)
        notification_email(reminder.pk)  # the email task run twice
    assert [m.to for m in mail.outbox] == [["li@importer.example"]]  # wang chose the app only
    assert "义乌西" in mail.outbox[0].subject  # the station by its Chinese name, as the reader reads
    assert "义乌西" in title(reminders.get(user=consignee), "zh-hans")


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_tell_each_person_once_and_email_once(corridor, monkeypatch):
    consignee = corridor.actors.consignee.user
    consignee.email = "li@importer.example"
    consignee.save()
    booking = at_station(corridor)
    last_free = (Container.objects.get(number=NUMBERS[0], is_active=True).station_discharge_at
                 .astimezone(SHANGHAI).date() + timedelta(days=booking.free_days))
    dispatched: list[int] = []
    monkeypatch.setattr(people, "emails_dispatch", dispatched.extend)  # in place of the broker
    start = threading.Barrier(2)
    made: list[int] = []

    def worker():
        try:
            start.wait()
            made.append(free_time_reminders(now=at(last_free - timedelta(days=1))))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for pk in dispatched:  # each worker queued what it saw as new: the email goes once all the same
        notification_email(pk)

    assert Notification.objects.filter(kind=K.FREE_TIME_ENDING, user=consignee).count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["li@importer.example"]
    assert sum(made) in (1, 2) and dispatched


def test_the_check_is_scheduled_on_the_email_queue():
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["free-time-reminders"]
    assert entry["task"] == "notifications.free_time_reminders"
    assert settings.CELERY_TASK_ROUTES["notifications.free_time_reminders"] == {"queue": "email"}
