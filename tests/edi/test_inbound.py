"""CODECO and COARRI (D.95B) from station and terminal systems, applied through the journey's services as reported
events: a result per container, nothing applied twice when an interchange is sent again, bad input refused whole."""

from datetime import timedelta

import pytest
from pydifact.segmentcollection import Interchange

from bookings import services as bookings_services
from bookings.models import Container, ContainerStatus, EmptyRequestStatus
from edi.edifact import edifact_datetime
from intermodal.access import Actor
from intermodal.models import Event, Scope
from journey import services as journey
from journey.models import ReportedEvent
from tests import factories
from tests.bookings.conftest import book
from tests.bookings.test_events_api import handed_out  # noqa: F401 - fixture
from tests.edi.conftest import key_client, post_edifact, sample

pytestmark = pytest.mark.django_db

NUMBERS = ["CSQU3054383", "TCNU7200794"]


def test_a_station_gate_in_applies_each_container_with_its_seal_and_vgm(connecting, handed_out):  # noqa: F811
    station = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])

    response = post_edifact(station, sample("codeco_gate_in_station.edi", booking=handed_out.reference))

    assert response.status_code == 200
    [message] = response.json()["messages"]
    assert (message["message_type"], message["document_code"], message["event_code"]) == ("CODECO", "34", "GTIN")
    assert (message["result"], message["applied"], message["refused"]) == ("accepted", 2, 0)
    assert [c["container_status"] for c in message["containers"]] == [ContainerStatus.GATED_IN] * 2
    first, second = (Container.objects.get(number=n) for n in NUMBERS)
    assert (first.seal_number, str(first.vgm_kg), first.vgm_method, first.vgm_signatory) == (
        "SL001", "24500.0", 1, "ZHANG WEI")
    assert (second.seal_number, str(second.vgm_kg), second.vgm_method) == ("SL002", "23800.5", 2)
    assert Event.objects.filter(event_code="GTIN", equipment_reference__in=NUMBERS).count() == 2


def test_an_interchange_sent_again_applies_nothing_twice_and_answers_as_before(connecting, handed_out):  # noqa: F811
    station = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    text = sample("codeco_gate_in_station.edi", booking=handed_out.reference)

    first = post_edifact(station, text).json()
    again = post_edifact(station, text).json()

    assert Event.objects.filter(event_code="GTIN").count() == 2
    assert all(c["replayed"] for c in again["messages"][0]["containers"])
    assert [{k: v for k, v in c.items() if k != "replayed"} for c in again["messages"][0]["containers"]] == \
        first["messages"][0]["containers"]
    assert sorted(ReportedEvent.objects.values_list("external_id", flat=True)) == [
        f"edifact:YIWUWEST:YW00001234:1:{number}" for number in NUMBERS]


def test_the_aperak_answer_names_the_container_that_was_refused(connecting, handed_out):  # noqa: F811
    station = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    # The second container is on no booking: it is refused alone, the first is applied.
    text = sample("codeco_gate_in_station.edi", booking=handed_out.reference).replace("TCNU7200794", "TOLU4734787")

    response = post_edifact(station, text, accept="application/edifact")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/edifact")
    body = response.content.decode()
    aperak = Interchange.from_str(body)
    assert aperak.serialize() == body  # parses with the library and round-trips
    [message] = list(aperak.get_messages())
    assert (message.type, message.version) == ("APERAK", "D.95B")
    segments = {s.tag: s for s in message.segments}
    assert segments["BGM"].elements == ["34", "YW-GI-20261204-0001", "27"]  # not accepted in full
    assert segments["RFF"].elements == [["ACW", "1"]]
    assert segments["ERC"].elements[0][0] in ("404", "409")
    assert segments["FTX"].elements[3][0] == "TOLU4734787"
    assert Container.objects.get(number="CSQU3054383").status == ContainerStatus.GATED_IN


def test_empties_handed_out_at_the_station_are_found_by_the_booking(shipper, connecting):
    booking = book(shipper.actor, connecting, lines={"42G1": 2})
    request = bookings_services.empty_request_create(actor=shipper.actor, booking=booking, size_type="42G1",
                                                     quantity=2)
    station = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])

    response = post_edifact(station, sample("codeco_gate_out_empty.edi", booking=booking.reference))

    [message] = response.json()["messages"]
    assert (message["event_code"], message["result"]) == ("GTOT", "accepted")
    request.refresh_from_db()
    assert request.status == EmptyRequestStatus.PICKED_UP
    assert sorted(booking.containers.values_list("number", flat=True)) == NUMBERS


def on_the_train_at_the_port(connecting):
    """The booking's two containers gated in at the station, loaded, and their train arrived at the port."""
    station = Actor(organisation=connecting.network.operator)
    railway = Actor(organisation=connecting.network.railway)
    for n, number in enumerate(NUMBERS):
        journey.laden_gate_in(actor=station, number=number, seal_number=f"SL{n}", vgm_kg=24000, vgm_method=1,
                              vgm_signatory="Chen Jie", confirmed=True)
    journey.train_load_all_ready(actor=station, departure=connecting.departure, confirmed=True)
    leaves = connecting.departure.planned_departure
    journey.train_depart(actor=railway, departure=connecting.departure, at=leaves, confirmed=True)
    journey.train_arrive(actor=railway, departure=connecting.departure, at=leaves + timedelta(hours=8),
                         confirmed=True)


def test_the_terminal_discharges_gates_in_and_loads_by_coarri_and_codeco(connecting, handed_out):  # noqa: F811
    on_the_train_at_the_port(connecting)
    port = key_client(connecting.network.port, [Scope.EVENTS_WRITE])
    call = connecting.vessel_call
    at = connecting.departure.planned_departure + timedelta(hours=9)
    times = [at, at + timedelta(hours=1), call.etd - timedelta(hours=3)]

    discharged = post_edifact(port, sample("coarri_discharge_train.edi", departure=connecting.departure.reference,
                                           at=edifact_datetime(times[0]))).json()
    gated_in = post_edifact(port, sample("codeco_gate_in_terminal.edi", at=edifact_datetime(times[1]))).json()
    factories.declaration_released(handed_out)
    loaded = post_edifact(port, sample("coarri_load_vessel.edi", voyage=call.voyage, imo=call.imo_number,
                                       at=edifact_datetime(times[2]))).json()

    assert [m["messages"][0]["result"] for m in (discharged, gated_in, loaded)] == ["accepted"] * 3
    assert [m["messages"][0]["event_code"] for m in (discharged, gated_in, loaded)] == ["DISC", "GTIN", "LOAD"]
    assert set(Container.objects.filter(number__in=NUMBERS).values_list("status", flat=True)) == {
        ContainerStatus.ON_VESSEL}
    loads = Event.objects.filter(event_code="LOAD", equipment_reference="CSQU3054383").order_by("id")
    assert [e.transport_reference for e in loads] == [connecting.departure.reference, call.reference]
    assert loads.last().event_datetime == times[2]


def test_a_step_that_does_not_follow_is_refused_per_container_and_writes_nothing(connecting, handed_out):  # noqa: F811
    port = key_client(connecting.network.port, [Scope.EVENTS_WRITE])
    before = Event.objects.count()

    response = post_edifact(port, sample("coarri_discharge_train.edi", departure=connecting.departure.reference))

    [message] = response.json()["messages"]
    assert (message["result"], message["applied"], message["refused"]) == ("refused", 0, 2)
    assert {c["status"] for c in message["containers"]} == {409}
    assert Event.objects.count() == before
    assert not ReportedEvent.objects.exists()  # a refused report keeps no id: sent again, it is tried again


def test_a_full_container_gate_out_is_not_supported_and_said_so(connecting, handed_out):  # noqa: F811
    station = key_client(connecting.network.operator, [Scope.EVENTS_WRITE])
    text = sample("codeco_gate_out_empty.edi", booking=handed_out.reference).replace("++2+4'", "++2+5'")

    [message] = post_edifact(station, text).json()["messages"]

    assert [c["code"] for c in message["containers"]] == ["not_supported", "not_supported"]
    assert message["result"] == "refused"


BAD = {
    "not EDIFACT": ("<xml>gate in</xml>", "interchange"),
    "empty": ("", "interchange"),
    "no UNT": ("UNB+UNOC:3+A:ZZZ+B:ZZZ+261204:0930+1'UNH+1+CODECO:D:95B:UN'BGM+34+X+9'", "interchange"),
    "another message type": ("UNB+UNOC:3+A:ZZZ+B:ZZZ+261204:0930+1'UNH+1+IFTMIN:D:95B:UN'BGM+340+X+9'UNT+3+1'"
                             "UNZ+1+1'", "message 1.UNH"),
    "another directory": ("UNB+UNOC:3+A:ZZZ+B:ZZZ+261204:0930+1'UNH+1+CODECO:D:00B:UN'BGM+34+X+9'UNT+3+1'"
                          "UNZ+1+1'", "message 1.UNH"),
    "an unknown document code": ("UNB+UNOC:3+A:ZZZ+B:ZZZ+261204:0930+1'UNH+1+CODECO:D:95B:UN'BGM+99+X+9'"
                                 "EQD+CN+CSQU3054383++++5'DTM+203:202612041000:203'UNT+5+1'UNZ+1+1'", "message 1.BGM"),
    "no time": ("UNB+UNOC:3+A:ZZZ+B:ZZZ+261204:0930+1'UNH+1+CODECO:D:95B:UN'BGM+34+X+9'EQD+CN+CSQU3054383++++5'"
                "UNT+4+1'UNZ+1+1'", "message 1.EQD CSQU3054383.DTM"),
    "no container": ("UNB+UNOC:3+A:ZZZ+B:ZZZ+261204:0930+1'UNH+1+COARRI:D:95B:UN'BGM+46+X+9'UNT+3+1'UNZ+1+1'",
                     "message 1.EQD"),
    "a VGM not in kilograms": ("UNB+UNOC:3+A:ZZZ+B:ZZZ+261204:0930+1'UNH+1+CODECO:D:95B:UN'BGM+34+X+9'"
                               "EQD+CN+CSQU3054383++++5'DTM+203:202612041000:203'MEA+AAE+VGM+LBR:abc'UNT+6+1'"
                               "UNZ+1+1'", "message 1.EQD CSQU3054383.MEA"),
    "a bad container number": ("UNB+UNOC:3+A:ZZZ+B:ZZZ+261204:0930+1'UNH+1+COARRI:D:95B:UN'BGM+44+X+9'"
                               "EQD+CN+CSQU305438399999++++5'DTM+203:202612041000:203'UNT+5+1'UNZ+1+1'",
                               "message 1.EQD CSQU305438399999.equipment_reference"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_input_that_cannot_be_read_is_a_400_naming_the_place_and_applies_nothing(case, connecting, handed_out):  # noqa: F811
    port = key_client(connecting.network.port, [Scope.EVENTS_WRITE])
    text, place = BAD[case]
    before = Event.objects.count()

    response = post_edifact(port, text, accept="application/edifact")

    assert response.status_code == 400
    body = response.json()  # errors are JSON even when APERAK was asked for
    assert body["code"] == "invalid" and place in body["errors"], body
    assert Event.objects.count() == before
    assert not ReportedEvent.objects.exists()


def test_only_reporters_with_the_scope_may_send_interchanges(shipper, connecting, handed_out):  # noqa: F811
    text = sample("codeco_gate_in_station.edi", booking=handed_out.reference)

    shipper_key = post_edifact(key_client(shipper.org, [Scope.EVENTS_READ, Scope.BOOKINGS_WRITE]), text)
    reading_key = post_edifact(key_client(connecting.network.operator, [Scope.EVENTS_READ]), text)

    assert (shipper_key.status_code, reading_key.status_code) == (403, 403)
    assert not Event.objects.filter(event_code="GTIN").exists()
