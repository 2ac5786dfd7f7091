"""Plausible, correctable reports (issue 16, item 4).

A departure, arrival, sailing or loading far from its plan, before the step it follows, or faster than the train
can run is refused with the reasons and the expected time, and recorded once the reporter confirms it - through
the API (`confirm`) and on the pages (a confirmation step). A wrong time is corrected by its reporter: the
correction supersedes the report on every timeline, names it in our API and webhooks, and reaches DCSA consumers
as a new event with the right time.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from bookings.models import Container
from intermodal.models import Event, Scope
from journey import services as journey
from journey.corrections import event_correct
from journey.plausibility import Implausible
from notifications.delivery import deliveries_send
from notifications.models import Delivery
from notifications.relay import outbox_relay
from stations.models import Departure, DepartureStatus
from tests import factories
from tests.bookings import test_journey
from tests.bookings.test_journey import NUMBERS, to_station
from tests.notifications import conftest as notifications_conftest
from tests.notifications.conftest import subscribe

pytestmark = pytest.mark.django_db
parties = test_journey.parties
receiver = notifications_conftest.receiver


def _client(org, *scopes) -> APIClient:
    _key, raw = factories.api_key(org, scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _report(client, **item):
    return client.post("/api/v1/events/", item, format="json")


@pytest.fixture
def now_at(monkeypatch):
    """Set the clock the services read (`timezone.now`) to a given time: reports after the fact need one."""

    def set_to(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_to


# --- Plausibility ----------------------------------------------------------------------------------------


def test_a_vessel_reported_sailed_days_before_its_etd_is_refused_until_confirmed(connecting):
    network, call = connecting.network, connecting.vessel_call
    port = _client(network.port, Scope.EVENTS_WRITE)
    early = call.etd - timedelta(days=3)
    item = {"event_type": "TRANSPORT", "event_code": "DEPA", "transport_reference": call.reference,
            "event_datetime": early.isoformat()}

    refused = _report(port, **item)

    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "implausible"
    [reason] = body["errors"]["event_datetime"]
    assert "before it was expected" in reason and timezone.localtime(call.etd).strftime("%Y-%m-%d %H:%M") in reason
    assert '"confirm": true' in body["detail"]
    call.refresh_from_db()
    assert call.actual_departure is None
    assert not Event.objects.filter(transport_reference=call.reference, event_code="DEPA", classifier="ACT").exists()

    confirmed = _report(port, **item, confirm=True)

    assert confirmed.status_code == 201
    call.refresh_from_db()
    assert call.actual_departure == early


def test_a_train_early_and_arriving_the_same_minute_is_refused_for_each_reason(connecting, parties):
    departure = connecting.departure
    railway = _client(connecting.network.railway, Scope.EVENTS_WRITE)
    early = departure.planned_departure - timedelta(days=4)
    depart = {"event_type": "TRANSPORT", "event_code": "DEPA", "transport_reference": departure.reference,
              "event_datetime": early.isoformat()}

    assert _report(railway, **depart).status_code == 409
    assert _report(railway, **depart, confirm=True).status_code == 201

    arrive = {"event_type": "TRANSPORT", "event_code": "ARRI", "transport_reference": departure.reference,
              "event_datetime": (early + timedelta(minutes=1)).isoformat()}
    refused = _report(railway, **arrive)

    assert refused.status_code == 409
    reasons = " ".join(refused.json()["errors"]["event_datetime"])
    assert "planned transit" in reasons and "before it was expected" in reasons
    departure.refresh_from_db()
    assert departure.status == DepartureStatus.DEPARTED and departure.actual_arrival is None


def test_a_time_on_plan_needs_no_confirmation(connecting, parties):
    departure = connecting.departure
    journey.train_depart(actor=parties["railway"], departure=departure,
                         at=departure.planned_departure + timedelta(minutes=20))
    journey.train_arrive(actor=parties["railway"], departure=departure,
                         at=departure.planned_arrival + timedelta(minutes=45))

    departure.refresh_from_db()
    assert departure.status == DepartureStatus.ARRIVED


def test_a_departure_before_the_last_container_was_loaded_is_refused(shipper, connecting, parties):
    to_station(shipper, connecting, parties, count=1)
    departure = connecting.departure
    loaded_at = departure.planned_departure - timedelta(minutes=30)
    journey.train_load(actor=parties["station"], number=NUMBERS[0], at=loaded_at)

    with pytest.raises(Implausible) as refused:
        journey.train_depart(actor=parties["railway"], departure=departure, at=loaded_at - timedelta(minutes=10))

    assert "before the last container was loaded" in refused.value.reasons[0]
    assert Departure.objects.get(pk=departure.pk).status == DepartureStatus.SCHEDULED


def at_terminal(shipper, connecting, parties, count: int) -> None:
    """`count` containers booked, gated in, loaded on their train and taken to the port on plan, gated in at the
    terminal, their declaration released: ready for the vessel."""
    to_station(shipper, connecting, parties, count=count)
    departure = connecting.departure
    for number in NUMBERS[:count]:
        journey.train_load(actor=parties["station"], number=number, at=departure.planned_departure)
    journey.train_depart(actor=parties["railway"], departure=departure, at=departure.planned_departure)
    journey.train_arrive(actor=parties["railway"], departure=departure, at=departure.planned_arrival)
    for number in NUMBERS[:count]:
        journey.train_discharge(actor=parties["port"], number=number, at=departure.planned_arrival)
        journey.terminal_gate_in(actor=parties["port"], number=number,
                                 at=departure.planned_arrival + timedelta(hours=1))
    factories.declaration_released(Container.objects.get(number=NUMBERS[0]).booking)


def test_loading_on_a_vessel_long_before_it_arrives_is_refused(shipper, connecting, parties):
    at_terminal(shipper, connecting, parties, count=1)
    call = connecting.vessel_call

    with pytest.raises(Implausible) as refused:
        journey.vessel_load(actor=parties["port"], number=NUMBERS[0], at=call.eta - timedelta(days=2))
    assert any("before it was expected" in reason for reason in refused.value.reasons)

    journey.vessel_load(actor=parties["port"], number=NUMBERS[0], at=call.eta + timedelta(hours=1))
    assert Container.objects.get(number=NUMBERS[0]).status == "on_vessel"


def test_a_departure_on_time_is_shown_against_the_plan_and_recorded_only_once_confirmed(connecting, now_at):
    from intermodal.models import OutboxMessage

    network, departure = connecting.network, connecting.departure
    now_at(departure.planned_departure + timedelta(minutes=20))
    client = Client()
    client.force_login(factories.user(network.railway, username="rail-desk"))
    url = f"/operations/railway/{departure.reference}/departed/"
    manifest = client.get(f"/operations/railway/{departure.reference}/").content.decode()
    events, outbox = Event.objects.count(), OutboxMessage.objects.count()

    review = client.post(url, {"at": ""})

    page = review.content.decode()
    assert review.status_code == 200 and "data-review-report" in page
    assert timezone.localtime(departure.planned_departure).isoformat() in page  # the plan, beside the time reported
    assert "20\xa0minutes later" in page or "20 minutes later" in page
    assert 'name="reviewed" value="1"' in page
    assert Departure.objects.get(pk=departure.pk).status == DepartureStatus.SCHEDULED
    assert (Event.objects.count(), OutboxMessage.objects.count()) == (events, outbox)  # tried, rolled back
    assert "data-planned" in manifest  # the report form shows the plan too

    recorded = client.post(url, {"at": "", "reviewed": "1"})

    assert recorded.status_code == 302
    assert Departure.objects.get(pk=departure.pk).status == DepartureStatus.DEPARTED
    assert Event.objects.count() > events


def test_a_refused_report_says_why_at_the_review_step_and_records_nothing(connecting, now_at):
    network, departure = connecting.network, connecting.departure
    now_at(departure.planned_departure + timedelta(minutes=5))
    client = Client()
    client.force_login(factories.user(network.railway, username="rail-desk"))

    arrived_first = client.post(f"/operations/railway/{departure.reference}/arrived/", {"at": ""})

    assert arrived_first.status_code == 409 and "data-review-report" not in arrived_first.content.decode()
    assert Departure.objects.get(pk=departure.pk).status == DepartureStatus.SCHEDULED


def test_sailing_and_loading_a_train_are_reviewed_before_they_are_recorded(shipper, connecting, parties, now_at):
    network, departure, call = connecting.network, connecting.departure, connecting.vessel_call
    to_station(shipper, connecting, parties, count=1)
    now_at(departure.planned_departure - timedelta(hours=2))
    station = Client()
    station.force_login(factories.user(network.operator, username="gate"))
    load_url = f"/operations/station/departures/{departure.reference}/load-all/"

    load_review = station.post(load_url)
    assert load_review.status_code == 200 and "data-review-report" in load_review.content.decode()
    assert Container.objects.get(number=NUMBERS[0]).status == "gated_in"
    assert station.post(load_url, {"reviewed": "1"}).status_code == 302
    assert Container.objects.get(number=NUMBERS[0]).status == "on_train"

    now_at(call.etd + timedelta(minutes=30))
    port = Client()
    port.force_login(factories.user(network.port, username="berth"))
    sail_url = f"/operations/port/vessel/{call.reference}/sailed/"
    sail_review = port.post(sail_url, {"at": ""})
    page = sail_review.content.decode()
    assert sail_review.status_code == 200 and timezone.localtime(call.etd).isoformat() in page
    assert call.__class__.objects.get(pk=call.pk).actual_departure is None
    assert port.post(sail_url, {"at": "", "reviewed": "1"}).status_code == 302
    assert call.__class__.objects.get(pk=call.pk).actual_departure is not None


def test_the_pages_ask_for_confirmation_and_show_the_planned_time(connecting, now_at):
    network, departure = connecting.network, connecting.departure
    now_at(departure.planned_departure + timedelta(hours=1))
    client = Client()
    client.force_login(factories.user(network.railway, username="rail-desk"))
    url = f"/operations/railway/{departure.reference}/departed/"
    too_early = timezone.localtime(departure.planned_departure - timedelta(days=2))
    posted = {"at": too_early.strftime("%Y-%m-%dT%H:%M")}

    asked = client.post(url, posted)

    assert asked.status_code == 409
    page = asked.content.decode()
    assert "data-confirm-report" in page and "before it was expected" in page
    assert departure.planned_departure.isoformat() in page or \
        timezone.localtime(departure.planned_departure).isoformat() in page
    assert Departure.objects.get(pk=departure.pk).status == DepartureStatus.SCHEDULED

    confirmed = client.post(url, {**posted, "confirm": "1"})

    assert confirmed.status_code == 302
    departure.refresh_from_db()
    assert departure.status == DepartureStatus.DEPARTED
    assert departure.actual_departure == too_early.replace(second=0, microsecond=0)


# --- Corrections -----------------------------------------------------------------------------------------


@pytest.fixture
def departed(shipper, connecting, parties, now_at):
    """One box loaded and gone with its train, one left at the station; the clock after the train's arrival."""
    booking, _request = to_station(shipper, connecting, parties, count=2)
    departure = connecting.departure
    journey.train_load(actor=parties["station"], number=NUMBERS[0], at=departure.planned_departure - timedelta(hours=1))
    journey.train_depart(actor=parties["railway"], departure=departure, at=departure.planned_departure)
    now_at(departure.planned_departure + timedelta(hours=2))
    report = Event.objects.get(transport_reference=departure.reference, event_code="DEPA", classifier="ACT")
    return booking, report


def test_the_reporter_corrects_a_departure_and_every_path_tells_the_correction(departed, connecting, shipper,
                                                                              receiver):
    booking, report = departed
    departure = connecting.departure
    subscription = subscribe(shipper.org, receiver.url, kinds=["transport.*"]).subscription
    right = departure.planned_departure + timedelta(minutes=40)
    railway = _client(connecting.network.railway, Scope.EVENTS_WRITE, Scope.EVENTS_READ)

    answer = railway.post(f"/api/v1/events/{report.event_id}/corrections/",
                          {"event_datetime": right.isoformat(), "reason": "Typed the planned time"}, format="json")

    assert answer.status_code == 201, answer.json()
    correction = answer.json()
    assert correction["supersedes"] == str(report.event_id)
    assert correction["event_code"] == "DEPA" and correction["reason"] == "Typed the planned time"
    departure.refresh_from_db()
    assert departure.actual_departure == right
    # The box the train left behind is told left behind at the right time too.
    missed = Event.objects.get(equipment_reference=NUMBERS[1], event_code="MISS", superseded_by__isnull=True)
    assert missed.event_datetime == right and missed.supersedes_id is not None

    # Our feed keeps both, the correction naming the report; the timeline reads the correction, marked.
    feed = _client(shipper.org, Scope.EVENTS_READ).get("/api/v1/events/", {"transport": departure.reference,
                                                                          "code": "DEPA"}).json()["results"]
    assert [(e["event_id"], e["supersedes"]) for e in feed] == [(str(report.event_id), None),
                                                                (correction["event_id"], str(report.event_id))]
    track = _client(shipper.org, Scope.EVENTS_READ).get(f"/api/v1/track/{NUMBERS[0]}/").json()
    [step] = [s for s in track["steps"] if s["key"] == "train_departs"]
    assert step["actual"] == timezone.localtime(right).isoformat() or step["actual"].startswith(
        right.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%dT%H:%M"))
    assert step["corrected"] is True

    # Subscribers are sent the correction, naming the report it replaces (a real post to a local receiver).
    while outbox_relay():
        pass
    deliveries = Delivery.objects.filter(subscription=subscription, topic="transport.depa").order_by("pk")
    Delivery.objects.filter(pk__in=deliveries.values("pk")).update(next_attempt_at=timezone.now())
    assert deliveries_send([d.pk for d in deliveries]) == ["delivered", "delivered"]
    told = [body["data"] for body in receiver.bodies()]
    assert [(data["event_id"], data["supersedes"]) for data in told] == [
        (str(report.event_id), None), (correction["event_id"], str(report.event_id))]


def test_dcsa_consumers_get_a_new_event_with_the_corrected_time(departed, connecting, parties):
    booking, report = departed
    right = connecting.departure.planned_departure + timedelta(minutes=25)
    correction = event_correct(actor=parties["railway"], event=report, at=right)

    dcsa = _client(connecting.network.railway, Scope.EVENTS_READ)
    events = dcsa.get("/api/dcsa/tnt/v2/events", {"eventType": "TRANSPORT",
                                                  "transportEventTypeCode": "DEPA"},
                      HTTP_API_VERSION="2.2.0").json()
    ids = [e["eventID"] for e in events]
    assert str(correction.event_id) in ids and str(report.event_id) in ids
    [told] = [e for e in events if e["eventID"] == str(correction.event_id)]
    assert told["eventDateTime"].startswith(right.astimezone(timezone.get_current_timezone())
                                            .strftime("%Y-%m-%dT%H:%M")) or \
        told["eventDateTime"].startswith(right.astimezone(timezone.UTC).strftime("%Y-%m-%dT%H:%M"))


def test_only_the_reporter_corrects_and_only_once(departed, connecting, parties, shipper):
    _booking, report = departed
    right = connecting.departure.planned_departure + timedelta(minutes=30)

    by_shipper = _client(shipper.org, Scope.EVENTS_WRITE).post(
        f"/api/v1/events/{report.event_id}/corrections/", {"event_datetime": right.isoformat()}, format="json")
    assert by_shipper.status_code == 403 and by_shipper.json()["code"] == "not_your_report"
    stranger = factories.organisation("railway", code="other-rail")
    by_stranger = _client(stranger, Scope.EVENTS_WRITE).post(
        f"/api/v1/events/{report.event_id}/corrections/", {"event_datetime": right.isoformat()}, format="json")
    assert by_stranger.status_code == 404

    correction = event_correct(actor=parties["railway"], event=report, at=right)
    again = _client(connecting.network.railway, Scope.EVENTS_WRITE).post(
        f"/api/v1/events/{report.event_id}/corrections/", {"event_datetime": right.isoformat()}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_corrected"

    # The correction itself can be corrected; the timeline reads the latest.
    later = right + timedelta(minutes=5)
    event_correct(actor=parties["railway"], event=correction, at=later)
    assert Departure.objects.get(pk=connecting.departure.pk).actual_departure == later
    assert Event.objects.filter(transport_reference=connecting.departure.reference, event_code="DEPA",
                                classifier="ACT", superseded_by__isnull=True).get().event_datetime == later


def test_a_correction_is_checked_like_a_report(departed, connecting, parties):
    _booking, report = departed
    days_early = connecting.departure.planned_departure - timedelta(days=3)

    with pytest.raises(Implausible):
        event_correct(actor=parties["railway"], event=report, at=days_early)
    assert Departure.objects.get(pk=connecting.departure.pk).actual_departure == report.event_datetime
    assert not Event.objects.filter(supersedes=report).exists()

    event_correct(actor=parties["railway"], event=report, at=days_early, confirmed=True)
    assert Departure.objects.get(pk=connecting.departure.pk).actual_departure == days_early


def test_a_container_step_is_corrected_on_the_page_and_the_timeline_marks_it(departed, connecting, parties):
    booking, _report = departed
    load = Event.objects.get(equipment_reference=NUMBERS[0], event_code="LOAD")
    client = Client()
    client.force_login(parties["station"].user)
    url = f"/operations/events/{load.event_id}/correct/"
    assert client.get(url).status_code == 200
    right = timezone.localtime(load.event_datetime - timedelta(minutes=15))

    done = client.post(url, {"at": right.strftime("%Y-%m-%dT%H:%M"), "reason": "Scanned late"})

    assert done.status_code == 302
    correction = Event.objects.get(supersedes=load)
    assert correction.event_datetime == right.replace(second=0, microsecond=0)
    page = client.get(f"/operations/track/?q={NUMBERS[0]}").content.decode()
    assert "data-corrected" in page and f'href="/operations/events/{correction.event_id}/correct/"' in page

    # Someone else's report has no correction page.
    other = Client()
    other.force_login(parties["port"].user)
    assert other.get(url).status_code == 404


def test_the_port_loads_the_containers_it_ticks_after_seeing_them_against_the_vessels_times(shipper, connecting,
                                                                                           parties, now_at):
    from intermodal.models import PartyKind

    at_terminal(shipper, connecting, parties, count=2)
    call = connecting.vessel_call
    now_at(call.eta + timedelta(hours=1))
    client = Client()
    client.force_login(factories.user(connecting.network.port, username="berth"))
    url = f"/operations/port/vessel/{call.reference}/load-selected/"

    review = client.post(url, {"numbers": NUMBERS[:2]})
    before = [Container.objects.get(number=n).status for n in NUMBERS[:2]]
    loaded = client.post(url, {"numbers": NUMBERS[:2], "reviewed": "1"})
    none_ticked = client.post(url, {})
    stranger = Client()
    stranger.force_login(factories.user(factories.organisation(PartyKind.PORT, code="other-port")))

    assert review.status_code == 200 and "data-review-report" in review.content.decode()
    assert all(number in review.content.decode() for number in NUMBERS[:2])
    for number in NUMBERS[:2]:  # each ticked container is sent again from the review step, not only the last
        assert f'<input type="hidden" name="numbers" value="{number}">' in review.content.decode()
    assert before == ["at_terminal", "at_terminal"]  # tried for the review, rolled back
    assert loaded.status_code == 302
    assert [Container.objects.get(number=n).status for n in NUMBERS[:2]] == ["on_vessel", "on_vessel"]
    assert none_ticked.status_code == 302
    assert stranger.post(url, {"numbers": NUMBERS[:1]}).status_code == 404


def test_one_container_loaded_with_its_own_button_is_reviewed_first(shipper, connecting, parties, now_at):
    at_terminal(shipper, connecting, parties, count=1)
    call = connecting.vessel_call
    now_at(call.eta + timedelta(hours=1))
    client = Client()
    client.force_login(factories.user(connecting.network.port, username="berth"))
    url = f"/operations/port/vessel/{call.reference}/containers/{NUMBERS[0]}/load/"

    review = client.post(url)
    before = Container.objects.get(number=NUMBERS[0]).status
    loaded = client.post(url, {"reviewed": "1"})

    page = review.content.decode()
    assert review.status_code == 200 and "data-review-report" in page
    assert timezone.localtime(call.cy_cutoff).isoformat() in page and timezone.localtime(call.etd).isoformat() in page
    assert before == "at_terminal"  # tried for the review, rolled back
    assert loaded.status_code == 302
    assert Container.objects.get(number=NUMBERS[0]).status == "on_vessel"
