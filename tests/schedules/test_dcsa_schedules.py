"""DCSA Commercial Schedules 1.0.3 (/api/dcsa/cs/v1/): every answer validated against DCSA's own file
(tests/fixtures/standards/dcsa/CS_v1.0.3.yaml), open and closed (no property DCSA does not define), and checked for
what it says: the routes the booking rules accept now, the calls and trains of a place, the calls of a vessel."""

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from intermodal.models import PartyKind, Scope
from stations.models import Departure, DepartureStatus, Location
from tests import factories
from tests.dcsa_spec import DcsaSpec, assert_valid, closed

pytestmark = pytest.mark.django_db

CS = DcsaSpec("CS_v1.0.3.yaml")
BASE = "/api/dcsa/cs/v1"
SHANGHAI = ZoneInfo("Asia/Shanghai")
OPERATIONS = {"point-to-point-routes": "PointToPoint", "port-schedules": "PortSchedule",
              "vessel-schedules": "ServiceSchedule"}


@pytest.fixture
def key(db):
    shipper = factories.organisation(PartyKind.ENTERPRISE, code="cs-shipper")
    return factories.api_key(shipper)[1]


@pytest.fixture
def routes(network):
    """The small network with sea transit to Rotterdam and the call's service published."""
    Location.objects.filter(unlocode="NLRTM").update(sea_transit_days=30)
    network.vessel_call.service_code, network.vessel_call.service_name = "AEU3", "Asia - North Europe 3"
    network.vessel_call.save()
    return network


def get(client, key: str | None, operation: str, **params):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    response = client.get(f"{BASE}/{operation}", params, **headers)
    assert response["API-Version"] == "1.0.3"
    if response.status_code == 200:
        body = response.json()
        assert_valid(body, CS.response_schema(f"/v1/{operation}"), operation)
        assert_valid(body, closed(CS.response_schema(f"/v1/{operation}")), f"{operation} (closed)")
    return response


def error(response, status: int, parameter: str | None = None) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert_valid(body, closed(CS.schema("ErrorResponse")), "error")
    assert body["statusCode"] == status and body["httpMethod"] == "GET"
    assert all(e["errorCode"] == 7000 + status and e["errorCodeMessage"] for e in body["errors"])
    if parameter:
        assert parameter in {e.get("property") for e in body["errors"]}, body
    return body


def expected_departures(network) -> list[Departure]:
    """What the booking rules accept now for the network's call from Yiwu: open, on time for the cut-off."""
    now = timezone.now()
    return list(Departure.objects.filter(
        service__station=network.yiwu, status=DepartureStatus.SCHEDULED, closing_time__gt=now,
        planned_arrival__lte=network.vessel_call.latest_arrival_for()).order_by("planned_departure"))


# --- Point to point --------------------------------------------------------------------------------------


def test_routes_are_the_connections_open_now_each_rail_then_vessel(api_client, key, routes):
    call = routes.vessel_call
    response = get(api_client, key, "point-to-point-routes", placeOfReceipt="CNYIU", placeOfDelivery="NLRTM")
    assert response.status_code == 200
    body = response.json()
    departures = expected_departures(routes)
    assert departures, "the network should offer routes"
    assert [r["legs"][0]["departure"]["transportCallReference"] for r in body] == [d.reference for d in departures]
    for number, (route, departure) in enumerate(zip(body, departures, strict=True), 1):
        assert route["solutionNumber"] == number
        assert route["routingReference"] == f"{departure.reference}/{call.reference}"
        rail, vessel = route["legs"]
        assert rail["transport"] == {"modeOfTransport": "RAIL"}
        assert rail["departure"]["location"]["UNLocationCode"] == "CNYIU"
        assert rail["arrival"]["location"] == {"locationName": "Beilun", "facilityName": "Beilun",
                                               "UNLocationCode": "CNNGB"}
        assert datetime.fromisoformat(rail["departure"]["dateTime"]) == departure.planned_departure
        assert rail["departure"]["dateTime"].endswith("+08:00")  # the station's local time
        assert vessel["transport"]["vessel"] == {"vesselIMONumber": call.imo_number, "name": call.vessel_name,
                                                 "operatorCarrierCode": "COSU",
                                                 "operatorCarrierCodeListProvider": "NMFTA"}
        assert vessel["transport"]["servicePartners"] == [{
            "carrierCode": "COSU", "carrierCodeListProvider": "NMFTA", "carrierServiceName": "Asia - North Europe 3",
            "carrierServiceCode": "AEU3", "carrierImportVoyageNumber": call.voyage,
            "carrierExportVoyageNumber": call.voyage}]
        assert vessel["departure"]["transportCallReference"] == call.reference
        arrival = call.etd + timedelta(days=30)
        assert datetime.fromisoformat(route["placeOfDelivery"]["dateTime"]) == arrival
        assert route["placeOfDelivery"]["location"]["UNLocationCode"] == "NLRTM"
        assert route["transitTime"] == math.ceil((arrival - departure.planned_departure) / timedelta(days=1))
        cutoffs = {c["cutOffDateTimeCode"]: datetime.fromisoformat(c["cutOffDateTime"]) for c in route["cutOffTimes"]}
        assert cutoffs == {"FCO": departure.closing_time, "PCO": call.cy_cutoff, "VCO": call.vgm_cutoff,
                           "DCO": call.si_cutoff, "CUA": call.customs_cutoff, "DGC": call.dg_cutoff}


def test_a_full_or_closed_departure_is_no_route_and_filters_narrow_the_dates(api_client, key, routes):
    first, second, *rest = expected_departures(routes)
    first.booked_teu = first.capacity_teu
    first.save()
    second.status = DepartureStatus.CLOSED
    second.save()
    found = get(api_client, key, "point-to-point-routes", placeOfReceipt="CNYIU", placeOfDelivery="NLRTM").json()
    assert [r["legs"][0]["departure"]["transportCallReference"] for r in found] == [d.reference for d in rest]

    day = rest[0].planned_departure.astimezone(SHANGHAI).date()
    on_day = get(api_client, key, "point-to-point-routes", placeOfReceipt="CNYIU", placeOfDelivery="NLRTM",
                 departureStartDate=str(day), departureEndDate=str(day)).json()
    assert [r["legs"][0]["departure"]["transportCallReference"] for r in on_day] == [rest[0].reference]
    arrives = (routes.vessel_call.etd + timedelta(days=30)).astimezone(UTC).date()
    for start, count in ((arrives, len(rest)), (arrives + timedelta(days=1), 0)):
        assert len(get(api_client, key, "point-to-point-routes", placeOfReceipt="CNYIU", placeOfDelivery="NLRTM",
                       arrivalStartDate=str(start)).json()) == count


@pytest.mark.parametrize("params", [
    {"placeOfReceipt": "CNHFI"},  # no station of ours there
    {"placeOfDelivery": "SGSIN"},  # no call to it
    {"receiptTypeAtOrigin": "SD"},  # stations take containers at their yard, not at the door
    {"deliveryTypeAtDestination": "CFS"},
])
def test_what_is_not_offered_is_an_empty_list(api_client, key, routes, params):
    query = {"placeOfReceipt": "CNYIU", "placeOfDelivery": "NLRTM", **params}
    assert get(api_client, key, "point-to-point-routes", **query).json() == []
    # Every other value of the same parameters finds the routes.
    assert get(api_client, key, "point-to-point-routes", placeOfReceipt="CNYIU", placeOfDelivery="NLRTM",
               cargoType="REEFER", maxTranshipment="0").json()


def test_a_destination_without_its_sea_transit_is_not_offered(api_client, key, routes):
    Location.objects.filter(unlocode="NLRTM").update(sea_transit_days=None)
    assert get(api_client, key, "point-to-point-routes", placeOfReceipt="CNYIU", placeOfDelivery="NLRTM").json() == []


def test_pages_follow_the_cursor_with_the_same_filters_and_number_on(api_client, key, routes):
    expected = [d.reference for d in expected_departures(routes)]
    query = {"placeOfReceipt": "CNYIU", "placeOfDelivery": "NLRTM", "limit": "2"}
    seen, numbers, cursor = [], [], None
    while True:
        response = get(api_client, key, "point-to-point-routes", **query, **({"cursor": cursor} if cursor else {}))
        page = response.json()
        assert len(page) <= 2
        seen += [r["legs"][0]["departure"]["transportCallReference"] for r in page]
        numbers += [r["solutionNumber"] for r in page]
        cursor = response.get("Next-Page-Cursor")
        if cursor is None:
            break
        assert len(cursor) <= 1024
    assert seen == expected and numbers == list(range(1, len(expected) + 1))
    first = get(api_client, key, "point-to-point-routes", **query)
    changed = get(api_client, key, "point-to-point-routes", placeOfReceipt="CNJHA", placeOfDelivery="NLRTM",
                  cursor=first["Next-Page-Cursor"])
    error(changed, 400, "cursor")
    error(get(api_client, key, "point-to-point-routes", placeOfReceipt="CNYIU", placeOfDelivery="NLRTM",
              cursor="forged"), 400, "cursor")


@pytest.mark.parametrize(("params", "parameter"), [
    ({"placeOfDelivery": "NLRTM"}, "placeOfReceipt"),
    ({"placeOfReceipt": "cnyiu", "placeOfDelivery": "NLRTM"}, "placeOfReceipt"),
    ({"placeOfReceipt": "CNYIU", "placeOfDelivery": "NL1TM"}, "placeOfDelivery"),
    ({"placeOfReceipt": "CNYIU", "placeOfDelivery": "NLRTM", "departureStartDate": "2026-02-30"},
     "departureStartDate"),
    ({"placeOfReceipt": "CNYIU", "placeOfDelivery": "NLRTM", "departureStartDate": "0001-01-01"},
     "departureStartDate"),
    ({"placeOfReceipt": "CNYIU", "placeOfDelivery": "NLRTM", "arrivalStartDate": "2026-05-02",
      "arrivalEndDate": "2026-05-01"}, "arrivalEndDate"),
    ({"placeOfReceipt": "CNYIU", "placeOfDelivery": "NLRTM", "limit": "0"}, "limit"),
    ({"placeOfReceipt": "CNYIU", "placeOfDelivery": "NLRTM", "maxTranshipment": "-1"}, "maxTranshipment"),
    ({"placeOfReceipt": "CNYIU", "placeOfDelivery": "NLRTM", "cargoType": "BULK"}, "cargoType"),
    ({"placeOfReceipt": "CNYIU", "placeOfDelivery": "NLRTM", "receiptTypeAtOrigin": "XX"}, "receiptTypeAtOrigin"),
    ({"placeOfReceipt": "CNYIU", "placeOfDelivery": "NLRTM", "placeOfReciept": "CNYIU"}, "placeOfReciept"),
])
def test_a_bad_query_is_a_400_naming_the_parameter(api_client, key, routes, params, parameter):
    body = error(get(api_client, key, "point-to-point-routes", **params), 400, parameter)
    sent = params.get(parameter)
    if sent is not None:
        assert sent in {e.get("value") for e in body["errors"]}


def test_api_version_major_must_be_1_and_schedules_are_public(api_client, key, routes):
    query = {"placeOfReceipt": "CNYIU", "placeOfDelivery": "NLRTM"}
    error(api_client.get(f"{BASE}/point-to-point-routes", query, HTTP_API_VERSION="2",
                         HTTP_AUTHORIZATION=f"Bearer {key}"), 400, "API-Version")
    assert api_client.get(f"{BASE}/point-to-point-routes", query, HTTP_API_VERSION="1",
                          HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    # Published schedules, as in our own API: read without a key, and with a key of any scope.
    assert get(api_client, None, "point-to-point-routes", **query).json()
    narrow = factories.api_key(factories.organisation(PartyKind.ENTERPRISE), scopes=[Scope.EVENTS_READ])[1]
    assert get(api_client, narrow, "point-to-point-routes", **query).json()
    error(api_client.get(f"{BASE}/point-to-point-routes", query, HTTP_AUTHORIZATION="Bearer not-a-key"), 401)


def test_a_barge_leg_names_its_service(api_client, key, routes):
    huzhou = factories.station("DEQING", name="Deqing Linhang", name_zh="德清临杭", city="Huzhou", city_zh="湖州",
                               unlocode="CNDEI")
    barge = factories.service(huzhou, routes.beilun, routes.railway, code="DEQING-BLG-B", mode="BARGE",
                              transit_hours=20)
    from stations.services import departures_generate

    departures_generate(days=7, start=routes.today)
    found = get(api_client, key, "point-to-point-routes", placeOfReceipt="CNDEI", placeOfDelivery="NLRTM").json()
    assert found
    assert {r["legs"][0]["transport"]["modeOfTransport"] for r in found} == {"BARGE"}
    assert found[0]["legs"][0]["transport"]["servicePartners"] == [
        {"carrierServiceName": "Deqing Linhang - Beilun", "carrierServiceCode": barge.short_code}]


# --- Port schedules --------------------------------------------------------------------------------------


def test_the_ports_schedule_lists_each_terminals_calls(api_client, key, routes):
    call = routes.vessel_call
    today = str(routes.today)
    body = get(api_client, key, "port-schedules", UNLocationCode="CNNGB", date=today).json()
    assert [schedule["location"]["facilityName"] for schedule in body] == ["Beilun"]
    (schedule,) = body[0]["vesselSchedules"]
    assert schedule["vessel"]["vesselIMONumber"] == call.imo_number and schedule["isDummyVessel"] is False
    assert schedule["servicePartners"][0]["carrierServiceCode"] == "AEU3"
    stamps = {(s["eventTypeCode"], s["eventClassifierCode"]): datetime.fromisoformat(s["eventDateTime"])
              for s in schedule["timestamps"]}
    assert stamps == {("ARRI", "EST"): call.eta, ("DEPA", "EST"): call.etd}
    # The terminal area's own code finds the same; a day after the call sailed, nothing.
    assert get(api_client, key, "port-schedules", UNLocationCode="CNBLG", date=today).json() == body
    after = str(call.etd.astimezone(SHANGHAI).date() + timedelta(days=1))
    assert get(api_client, key, "port-schedules", UNLocationCode="CNNGB", date=after).json()[0][
        "vesselSchedules"] == []


def test_a_stations_schedule_lists_its_trains_without_a_vessel(api_client, key, routes):
    today = routes.today
    body = get(api_client, key, "port-schedules", UNLocationCode="CNJHA", date=str(today)).json()
    (station,) = body
    assert station["location"] == {"locationName": "Jinhua East", "UNLocationCode": "CNJHA"}
    start = datetime.combine(today, datetime.min.time(), tzinfo=SHANGHAI)
    expected = list(Departure.objects.filter(service__station=routes.jinhua, planned_departure__gte=start)
                    .order_by("planned_departure").values_list("reference", flat=True))
    assert [s["servicePartners"][0]["carrierExportVoyageNumber"] for s in station["vesselSchedules"]] == expected
    assert all(s["isDummyVessel"] is True and "vessel" not in s for s in station["vesselSchedules"])
    assert {s["servicePartners"][0]["carrierServiceCode"] for s in station["vesselSchedules"]} == {
        routes.jinhua_rail.short_code}
    assert get(api_client, key, "port-schedules", UNLocationCode="NLRTM", date=str(today)).json() == []
    error(get(api_client, key, "port-schedules", UNLocationCode="CNJHA"), 400, "date")


# --- Vessel schedules ------------------------------------------------------------------------------------


def test_vessel_schedules_by_vessel_service_and_place(api_client, key, routes):
    call = routes.vessel_call
    # The same voyage calls a second terminal of the port; another vessel's call has no published service.
    daxie = factories.terminal("DAXIE", name="Daxie", name_zh="大榭", unlocode="CNDAX", operator=routes.port)
    second = factories.vessel_call(daxie, etd=call.etd + timedelta(hours=40), voyage=call.voyage,
                                   reference=f"{call.reference}-DAX",
                                   service_code="AEU3", service_name="Asia - North Europe 3")
    other = factories.vessel_call(routes.beilun, etd=call.etd + timedelta(days=2), imo="9811012", voyage="301E")

    body = get(api_client, key, "vessel-schedules", vesselIMONumber=call.imo_number).json()
    assert [(s["carrierServiceCode"], s["carrierServiceName"]) for s in body] == [("AEU3", "Asia - North Europe 3")]
    (vessel,) = body[0]["vesselSchedules"]
    assert [c["transportCallReference"] for c in vessel["transportCalls"]] == [call.reference, second.reference]

    beilun_only = get(api_client, key, "vessel-schedules", UNLocationCode="CNBLG", carrierServiceCode="AEU3",
                      responseScope="MATCHED_CALLS").json()
    assert [c["transportCallReference"] for c in beilun_only[0]["vesselSchedules"][0]["transportCalls"]] == [
        call.reference]
    whole_voyage = get(api_client, key, "vessel-schedules", UNLocationCode="CNBLG", carrierServiceCode="AEU3").json()
    assert len(whole_voyage[0]["vesselSchedules"][0]["transportCalls"]) == 2

    unpublished = get(api_client, key, "vessel-schedules", vesselIMONumber=other.imo_number).json()
    assert [(s["carrierServiceCode"], s["carrierServiceName"]) for s in unpublished] == [
        ("UNPUBLISHED", "Service not published")]
    assert get(api_client, key, "vessel-schedules", carrierServiceCode="UNPUBLISHED").json() == unpublished
    assert get(api_client, key, "vessel-schedules", vesselOperatorCarrierCode="COSU", limit="1").json() == body
    assert get(api_client, key, "vessel-schedules", universalServiceReference="SR12345A").json() == []
    later = str(other.etd.astimezone(SHANGHAI).date() + timedelta(days=1))
    assert get(api_client, key, "vessel-schedules", vesselOperatorCarrierCode="COSU", startDate=later).json() == []


@pytest.mark.parametrize(("params", "parameter"), [
    ({}, None),
    ({"startDate": "2026-01-01"}, None),
    ({"vesselIMONumber": "98110x0"}, "vesselIMONumber"),
    ({"vesselIMONumber": "9811000", "responseScope": "ALL"}, "responseScope"),
])
def test_vessel_schedules_need_a_filter(api_client, key, routes, params, parameter):
    error(get(api_client, key, "vessel-schedules", **params), 400, parameter)


def test_vessel_schedules_page_by_service(api_client, key, routes):
    call = routes.vessel_call
    factories.vessel_call(routes.beilun, etd=call.etd + timedelta(days=2), imo="9811012", voyage="301E",
                          service_code="FAL5", service_name="French Asia Line 5")
    first = get(api_client, key, "vessel-schedules", vesselOperatorCarrierCode="COSU", limit="1")
    assert [s["carrierServiceCode"] for s in first.json()] == ["AEU3"]
    second = get(api_client, key, "vessel-schedules", vesselOperatorCarrierCode="COSU", limit="1",
                 cursor=first["Next-Page-Cursor"])
    assert [s["carrierServiceCode"] for s in second.json()] == ["FAL5"]
    assert "Next-Page-Cursor" not in second
