"""IFTSTA (D.95B) out: GET /api/edi/iftsta?since=... and the IFTSTA webhook format. Every interchange parses with
pydifact and round-trips; each organisation gets only the events tracking.visibility lets it see."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydifact.segmentcollection import Interchange
from standardwebhooks.webhooks import Webhook

from bookings import services as bookings_services
from edi.iftsta import iftsta_interchange
from intermodal.access import Actor
from intermodal.models import Event, Organisation, PartyKind, Scope
from journey import services as journey
from notifications import delivery as sender
from notifications.models import Delivery, SubscriptionFormat
from notifications.relay import outbox_sweep
from tests.bookings.conftest import book
from tests.bookings.test_events_api import handed_out  # noqa: F401 - fixture
from tests.edi.conftest import SAMPLES, key_client, post_edifact, sample
from tests.edi.test_inbound import on_the_train_at_the_port
from tests.notifications.conftest import subscribe

pytestmark = pytest.mark.django_db

SINCE = "2000-01-01T00:00:00Z"


def iftsta(client, **params):
    return client.get("/api/edi/iftsta", {"since": SINCE, **params})


def messages_of(text: str) -> list[dict]:
    """The interchange's messages as {tag: [elements, ...]}, after checking it parses and round-trips."""
    interchange = Interchange.from_str(text)
    assert interchange.serialize() == text
    found = []
    for message in interchange.get_messages():
        assert (message.type, message.version) == ("IFTSTA", "D.95B")
        segments: dict[str, list] = {}
        for segment in message.segments:
            segments.setdefault(segment.tag, []).append(segment.elements)
        found.append(segments)
    return found


def bookings_named(messages: list[dict]) -> set[str]:
    return {rff[0][1] for m in messages for rff in m.get("RFF", []) if rff[0][0] == "BN"}


def test_a_shipper_reads_its_own_containers_events_and_not_another_shippers(shipper, other_shipper, connecting):
    mine = book(shipper.actor, connecting, lines={"42G1": 1})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=mine, size_type="42G1", quantity=1)
    journey.empty_hand_out(actor=Actor(organisation=connecting.network.operator), request=request,
                           number="CSQU3054383")
    theirs = book(other_shipper.actor, connecting, lines={"22G1": 1})

    response = iftsta(key_client(shipper.org, [Scope.EVENTS_READ]))
    other = iftsta(key_client(other_shipper.org, [Scope.EVENTS_READ]))

    assert response.status_code == 200 and response["Content-Type"].startswith("application/edifact")
    messages = messages_of(response.content.decode())
    assert bookings_named(messages) == {mine.reference}
    gate_out = next(m for m in messages if m["STS"][0][1][0] == "GTOT")
    assert gate_out["EQD"][0][:2] == ["CN", "CSQU3054383"] and gate_out["EQD"][0][5] == "4"  # empty
    assert bookings_named(messages_of(other.content.decode())) == {theirs.reference}


def test_the_port_reads_what_happens_at_its_terminal(other_shipper, connecting, handed_out):  # noqa: F811
    on_the_train_at_the_port(connecting)
    port = key_client(connecting.network.port, [Scope.EVENTS_READ, Scope.EVENTS_WRITE])
    post_edifact(port, sample("coarri_discharge_train.edi", departure=connecting.departure.reference))

    messages = messages_of(iftsta(port).content.decode())
    other = messages_of(iftsta(key_client(other_shipper.org, [Scope.EVENTS_READ])).content.decode())

    discharge = [m for m in messages if m["STS"][0][1][0] == "DISC"]
    assert sorted(m["EQD"][0][1] for m in discharge) == ["CSQU3054383", "TCNU7200794"]
    assert discharge[0]["LOC"][0] == ["175", ["CNBLG", "139", "6"], ["BEILUN", "TER", "ZZZ"]]
    assert discharge[0]["TDT"][0][:3] == ["20", connecting.departure.reference, "2"]  # rail
    depa = next(m for m in messages if m["STS"][0][1][0] == "DEPA")
    assert depa["DTM"][1][0][0] == "186"  # actual departure
    assert not [m for m in other if m.get("EQD")]  # another shipper sees none of these containers


def test_a_page_is_bounded_and_the_cursor_goes_on_from_it(shipper, connecting):
    book(shipper.actor, connecting, lines={"42G1": 1})  # drafted and confirmed: two events
    client = key_client(shipper.org, [Scope.EVENTS_READ])

    first = iftsta(client, limit=1)
    second = client.get("/api/edi/iftsta", {"cursor": first["Next-Page-Cursor"]})
    after = client.get(second["Next-Page"])

    assert first["More-Events"] == "true" and second["More-Events"] == "false"
    [one], [two] = messages_of(first.content.decode()), messages_of(second.content.decode())
    assert one["BGM"][0][1] != two["BGM"][0][1]
    assert messages_of(after.content.decode()) == [] and after["More-Events"] == "false"


@pytest.mark.parametrize("params, field", [
    ({}, "since"),
    ({"since": "2026-12-04T08:00:00"}, "since"),  # no offset
    ({"since": "yesterday"}, "since"),
    ({"since": SINCE, "limit": "0"}, "limit"),
    ({"cursor": "forged"}, "cursor"),
])
def test_a_bad_query_is_a_400_in_json(shipper, params, field):
    response = key_client(shipper.org, [Scope.EVENTS_READ]).get("/api/edi/iftsta", params)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_time_zone_offset_beyond_postgresqls_is_taken_as_its_instant(shipper):
    """+22:30 is a valid offset to Python and ISO 8601, not to PostgreSQL (up to 15:59): the fuzzer's 500."""
    client = key_client(shipper.org, [Scope.EVENTS_READ])

    far = client.get("/api/edi/iftsta", {"since": "2026-12-04T06:15:35+22:30"})
    same = client.get("/api/edi/iftsta", {"since": "2026-12-03T07:45:35Z"})

    assert far.status_code == same.status_code == 200
    assert messages_of(far.content.decode()) == messages_of(same.content.decode())


def test_a_key_without_events_read_is_refused(shipper):
    assert iftsta(key_client(shipper.org, [Scope.BOOKINGS_READ])).status_code == 403


def test_the_expected_iftsta_sample_is_what_an_event_becomes(db):
    """tests/fixtures/edifact/iftsta_expected.edi: a laden gate-in at Yiwu West, as the station is sent it."""
    at = datetime(2026, 12, 4, 2, 28, tzinfo=UTC)
    event = Event(
        event_id=uuid.UUID("3f2c0d1e-4b6a-4c8e-9d7f-0a1b2c3d4e5f"), event_type="EQUIPMENT", event_code="GTIN",
        classifier="ACT", event_datetime=at, created_at=at + timedelta(minutes=2), location_unlocode="CNYIU",
        facility_kind="station", facility_code="YIWU-W", equipment_reference="CSQU3054383", empty_indicator="LADEN",
        booking_reference="BK-2026-000123", details={"size_type": "42G1", "seal_number": "SL001", "vgm_kg": "24500.0"},
    )
    station = Organisation(code="yiwu-ops", kind=PartyKind.STATION_OPERATOR)

    text = iftsta_interchange(actor=Actor(organisation=station), events=[event], control_reference="5F3A9C1D2E4B6A",
                              moment=at + timedelta(minutes=5))

    assert text == (SAMPLES / "iftsta_expected.edi").read_text().strip()
    assert Interchange.from_str(text).serialize() == text


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.edi")))
def test_every_sample_interchange_parses_and_round_trips(name):
    text = (SAMPLES / name).read_text(encoding="latin-1")
    interchange = Interchange.from_str(text)

    serialized = interchange.serialize(break_lines="\n" in text.strip())
    assert serialized.strip() == text.strip()
    for message in interchange.get_messages():
        assert message.version == "D.95B"
        assert message.type in ("CODECO", "COARRI", "IFTSTA")


def test_an_iftsta_subscription_is_sent_one_signed_interchange_per_event(shipper, connecting, receiver):
    created = subscribe(shipper.org, receiver.url, format=SubscriptionFormat.IFTSTA)
    booking = book(shipper.actor, connecting)
    outbox_sweep()
    deliveries = list(Delivery.objects.filter(subscription=created.subscription).order_by("id"))

    sender.deliveries_send([d.pk for d in deliveries])

    assert len(receiver.requests) == len(deliveries) == 2  # DRFT and CONF of the booking
    codes = []
    for request in receiver.requests:
        assert request.headers["content-type"] == "application/edifact"
        # Signed as Standard Webhooks (the library's verify() would also read the body as JSON: signed again here).
        moment = datetime.fromtimestamp(int(request.headers["webhook-timestamp"]), UTC)
        assert Webhook(created.secret).sign(msg_id=request.headers["webhook-id"], timestamp=moment,
                                            data=request.body.decode()) == request.headers["webhook-signature"]
        [message] = messages_of(request.body.decode())
        assert bookings_named([message]) == {booking.reference}
        codes.append(message["STS"][0][1][0])
    assert sorted(codes) == ["CONF", "DRFT"]
    assert {d.status for d in Delivery.objects.filter(subscription=created.subscription)} == {"delivered"}


def test_a_subscription_asks_for_the_iftsta_format_through_the_api(shipper):
    client = key_client(shipper.org, [Scope.SUBSCRIPTIONS])

    created = client.post("/api/v1/subscriptions/", {"url": "https://erp.example/hook", "event_kinds": ["*"],
                                                      "format": "iftsta"}, format="json")
    refused = client.post("/api/v1/subscriptions/", {"url": "https://erp.example/hook", "event_kinds": ["*"],
                                                      "format": "dcsa"}, format="json")
    listed = client.get("/api/v1/subscriptions/").json()

    assert created.status_code == 201 and created.json()["format"] == "iftsta"
    assert refused.status_code == 400 and "format" in refused.json()["errors"]  # DCSA's have their own API
    assert [s["format"] for s in listed["results"]] == ["iftsta"]
