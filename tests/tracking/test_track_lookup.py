"""The tracking look-up's fast path (P5, docs/PERFORMANCE.md): its reads as prepared statements
(databases/prepared.py) and its answer written out (tracking/api.py `track_answer`) say what the ORM and the
serializers say, to every party, for every booking and container of the demo, both directions, in both
languages and time zones."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.test import APIClient

from bookings.models import Booking, Container, Direction
from inbound.models import ReturnedEmpty
from intermodal.access import Actor
from intermodal.errors import NotFound
from intermodal.models import Organisation, PartyKind, Scope
from tests import factories
from tracking.api import TrackSerializer, track_answer
from tracking.timeline import track_lookup

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_seeded")]


def _answers(actor: Actor, keys: list[str], *, written_out: bool) -> dict[str, dict | None]:
    answers = {}
    for key in keys:
        try:
            timeline = track_lookup(actor=actor, key=key)
        except NotFound:
            answers[key] = None
            continue
        answers[key] = track_answer(timeline) if written_out else dict(TrackSerializer(timeline).data)
    return answers


def _keys() -> list[str]:
    return [*Booking.objects.values_list("reference", flat=True),
            *sorted(set(Container.objects.values_list("number", flat=True)))]


@pytest.mark.parametrize(("language", "zone"), [("en", "Asia/Shanghai"), ("zh-hans", "UTC")])
def test_every_party_reads_what_the_orm_and_the_serializer_say(language, zone):
    keys = _keys()
    assert Booking.objects.filter(direction=Direction.IMPORT).exists()
    assert Booking.objects.filter(direction=Direction.EXPORT).exists()
    seen = {}
    with translation.override(language), timezone.override(zone):
        for organisation in Organisation.objects.all():
            actor = Actor(organisation=organisation)
            fast = _answers(actor, keys, written_out=True)
            with override_settings(DATABASE_PREPARED_STATEMENTS=False):
                slow = _answers(actor, keys, written_out=False)
            assert fast == slow, organisation.kind
            seen[organisation.kind] = sum(answer is not None for answer in fast.values())
    # Each party that tracks saw some of the demo, and those that do not saw none of it.
    assert seen[PartyKind.PLATFORM_ADMIN] == len(keys)
    assert all(seen[kind] for kind in (PartyKind.ENTERPRISE, PartyKind.STATION_OPERATOR, PartyKind.RAILWAY,
                                       PartyKind.PORT))
    assert seen[PartyKind.CUSTOMS] == seen[PartyKind.LOCAL_GOVERNMENT] == 0


def test_a_look_up_is_one_prepared_statement_and_reads_no_events():
    booking = Booking.objects.filter(direction=Direction.IMPORT).select_related("shipper").first()
    number = booking.containers.values_list("number", flat=True).first()
    actor = Actor(organisation=booking.shipper)
    for key in (booking.reference, number):
        track_lookup(actor=actor, key=key)  # each statement prepared on this connection
        with CaptureQueriesContext(connection) as captured:
            track_lookup(actor=actor, key=key)
        # What the timeline needs of the events is kept with the rows (tracking.facts).
        assert [query["sql"].split("(")[0] for query in captured.captured_queries] == (
            ["EXECUTE track_booking_containers_enterprise"] if key == booking.reference else
            ["EXECUTE track_container_enterprise"])


def test_a_booking_without_containers_yet_has_its_route_read_alone():
    booking = Booking.objects.filter(direction=Direction.EXPORT).select_related("shipper").first()
    ReturnedEmpty.objects.filter(used_by__booking=booking).update(used_by=None, used_at=None)
    booking.containers.all().delete()  # as booked, before the empties are handed out
    actor = Actor(organisation=booking.shipper)
    track_lookup(actor=actor, key=booking.reference)
    with CaptureQueriesContext(connection) as captured:
        timeline = track_lookup(actor=actor, key=booking.reference)

    assert timeline.booking == booking and timeline.containers == []
    assert [query["sql"].split("(")[0] for query in captured.captured_queries] == [
        "EXECUTE track_booking_containers_enterprise", "EXECUTE track_booking_enterprise"]


def test_through_the_api_another_shippers_booking_is_a_404_and_ones_own_its_timeline():
    bookings = list(Booking.objects.select_related("shipper").order_by("shipper__code"))
    mine = bookings[0]
    theirs = next(booking for booking in bookings if booking.shipper_id != mine.shipper_id)
    # Container numbers come back to be used again: a box of theirs that was never in a booking of the caller's.
    box = Container.objects.filter(booking=theirs).exclude(number__in=Container.objects.filter(
        booking__shipper=mine.shipper).values("number")).values_list("number", flat=True).first()
    _key, raw = factories.api_key(mine.shipper, scopes=[Scope.EVENTS_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    own = client.get(f"/api/v1/track/{mine.reference}/")
    other = client.get(f"/api/v1/track/{theirs.reference}/")
    other_box = client.get(f"/api/v1/track/{box}/")

    assert own.status_code == 200 and own.json()["booking"] == mine.reference
    assert other.status_code == other_box.status_code == 404


def test_the_steps_labels_are_in_the_language_active_at_each_look_up():
    # Labels are translated once per language and kept (tracking/timeline.py `_labels`): each look-up still says
    # them in its own request's language.
    booking = Booking.objects.filter(direction=Direction.EXPORT).first()
    actor = Actor(organisation=Organisation.objects.filter(kind=PartyKind.PLATFORM_ADMIN).first())
    said = []
    for language in ("en", "zh-hans", "en", "zh-hans"):
        with translation.override(language):
            labels = [step.label for step in track_lookup(actor=actor, key=booking.reference).steps]
            said.append((labels, translation.gettext("Vessel sails")))

    (english, sails), (chinese, sails_zh) = said[0], said[1]
    assert said[2] == said[0] and said[3] == said[1]
    assert sails == "Vessel sails" and sails_zh != sails
    assert sails in english and sails_zh in chinese and sails not in chinese
