"""Published schedules over the API: readable without a key, filtered, ordered and paginated."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import translation

from stations.models import Departure, Service
from tests import factories

pytestmark = pytest.mark.django_db


def test_stations_are_public_and_addressed_by_code(api_client, network):
    listing = api_client.get("/api/v1/stations/")
    detail = api_client.get("/api/v1/stations/YIWU-W/")

    assert listing.status_code == 200
    assert listing.json()["count"] == 2
    assert detail.status_code == 200
    assert detail.json()["name_zh"] == "义乌西"
    assert detail.json()["services"] == ["YIWU-W-BLG-R"]
    assert detail.json()["operator"] == "yiwu-ops"


def test_unknown_code_is_a_json_404(api_client, network):
    response = api_client.get("/api/v1/stations/NOPE/")

    assert response.status_code == 404
    assert response.json() == {"status": 404, "code": "not_found", "detail": "Not found.", "errors": {}}


def test_unknown_api_path_is_a_json_404(api_client, db):
    response = api_client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_schedules_are_read_only(api_client, network):
    user = factories.user(factories.organisation("platform_admin"))
    api_client.force_login(user)

    response = api_client.post("/api/v1/stations/", {"code": "X"}, format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_pagination_with_page_size(api_client, network):
    first = api_client.get("/api/v1/departures/", {"page_size": 5})
    second = api_client.get(first.json()["next"])

    body = first.json()
    assert body["count"] == Departure.objects.count()
    assert len(body["results"]) == 5
    assert second.status_code == 200
    assert {d["reference"] for d in body["results"]}.isdisjoint({d["reference"] for d in second.json()["results"]})


def test_page_size_is_at_most_200_as_the_schema_says(api_client, network):
    largest = api_client.get("/api/v1/departures/", {"page_size": 200})
    too_large = api_client.get("/api/v1/departures/", {"page_size": 201})

    assert largest.status_code == 200
    assert len(largest.json()["results"]) == min(200, Departure.objects.count())
    assert too_large.status_code == 400 and "page_size" in too_large.json()["errors"]


def test_page_out_of_range_is_a_404(api_client, network):
    response = api_client.get("/api/v1/departures/", {"page": 999})

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_departures_filter_by_station_and_mode(api_client, network):
    response = api_client.get("/api/v1/departures/", {"station": "JINHUA-E", "mode": "RAIL", "page_size": 100})

    results = response.json()["results"]
    assert results
    assert {d["station"] for d in results} == {"JINHUA-E"}
    assert {d["mode"] for d in results} == {"RAIL"}


def test_departures_filter_by_date_range(api_client, network):
    start, end = network.today + timedelta(days=2), network.today + timedelta(days=4)

    response = api_client.get("/api/v1/departures/", {"station": "YIWU-W", "date_from": start, "date_to": end})

    dates = [d["service_date"] for d in response.json()["results"]]
    assert dates == [str(start), str(start + timedelta(days=1)), str(end)]


def test_departures_filter_by_free_capacity(api_client, network):
    full = Departure.objects.filter(service=network.yiwu_rail).order_by("service_date").first()
    Departure.objects.filter(pk=full.pk).update(booked_teu=F("capacity_teu"))
    nearly = Departure.objects.filter(service=network.yiwu_rail).order_by("service_date")[1]
    Departure.objects.filter(pk=nearly.pk).update(booked_teu=F("capacity_teu") - 3)

    free = api_client.get("/api/v1/departures/", {"station": "YIWU-W", "has_free_capacity": "true",
                                                  "page_size": 100}).json()["results"]
    none_free = api_client.get("/api/v1/departures/", {"has_free_capacity": "false"}).json()["results"]
    at_least_5 = api_client.get("/api/v1/departures/", {"station": "YIWU-W", "min_free_teu": 5,
                                                        "page_size": 100}).json()["results"]

    assert full.reference not in {d["reference"] for d in free}
    assert [d["reference"] for d in none_free] == [full.reference]
    assert none_free[0]["teu_free"] == 0
    assert nearly.reference not in {d["reference"] for d in at_least_5}
    assert len(at_least_5) == len(free) - 1


def test_departures_connecting_to_a_vessel_call_arrive_before_the_cut_off_less_the_buffer(api_client, network):
    call = network.vessel_call
    latest_arrival = call.cy_cutoff - timedelta(hours=network.beilun.handling_buffer_hours)

    response = api_client.get("/api/v1/departures/", {"connects_to": call.reference, "page_size": 100})

    results = response.json()["results"]
    expected = Departure.objects.filter(service__terminal=network.beilun, planned_arrival__lte=latest_arrival)
    assert response.status_code == 200
    assert results
    assert {d["reference"] for d in results} == set(expected.values_list("reference", flat=True))


def test_a_delayed_departure_no_longer_connects(api_client, network):
    call = network.vessel_call
    connecting = api_client.get("/api/v1/departures/", {"connects_to": call.reference, "page_size": 100})
    last = connecting.json()["results"][-1]["reference"]
    Departure.objects.filter(reference=last).update(estimated_arrival=call.cy_cutoff)

    again = api_client.get("/api/v1/departures/", {"connects_to": call.reference, "page_size": 100})

    assert last not in {d["reference"] for d in again.json()["results"]}


def test_unknown_vessel_call_in_filter_is_a_field_error(api_client, network):
    response = api_client.get("/api/v1/departures/", {"connects_to": "no-such-call"})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "connects_to" in body["errors"]


def test_bad_filter_values_are_field_errors(api_client, network):
    response = api_client.get("/api/v1/departures/", {"date_from": "yesterday", "mode": "PLANE"})

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"date_from", "mode"}


def test_departures_ordering(api_client, network):
    response = api_client.get("/api/v1/departures/", {"ordering": "-planned_departure", "page_size": 100})

    times = [d["planned_departure"] for d in response.json()["results"]]
    assert times == sorted(times, reverse=True)


def test_services_filter_and_tariffs(api_client, network):
    factories.service(network.yiwu, network.beilun, network.railway, code="YIWU-W-BLG-B", mode="BARGE")

    barge = api_client.get("/api/v1/services/", {"mode": "BARGE"}).json()["results"]
    by_station = api_client.get("/api/v1/services/", {"station": "YIWU-W"}).json()["results"]

    assert [s["code"] for s in barge] == ["YIWU-W-BLG-B"]
    assert {s["code"] for s in by_station} == {"YIWU-W-BLG-R", "YIWU-W-BLG-B"}
    tariff_20 = next(t for t in barge[0]["tariffs"] if t["container_size"] == "20")
    assert tariff_20["total"] == "1880.00"
    assert tariff_20["saving"] == "820.00"
    assert tariff_20["currency"] == "CNY"


def test_vessel_calls_filter_by_destination_and_terminal(api_client, network):
    other = factories.terminal("MEISHAN", unlocode="CNMSG", name="Meishan", name_zh="梅山")
    factories.vessel_call(other, etd=network.vessel_call.etd + timedelta(days=1), imo="9074729",
                          destinations=("DEHAM", "NLRTM"))

    rotterdam = api_client.get("/api/v1/vessel-calls/", {"destination": "NLRTM"}).json()
    hamburg = api_client.get("/api/v1/vessel-calls/", {"destination": "DEHAM"}).json()
    at_beilun = api_client.get("/api/v1/vessel-calls/", {"terminal": "BEILUN"}).json()

    assert rotterdam["count"] == 2
    assert [c["imo_number"] for c in hamburg["results"]] == ["9074729"]
    assert hamburg["results"][0]["destinations"] == ["DEHAM", "NLRTM"]
    assert [c["reference"] for c in at_beilun["results"]] == [network.vessel_call.reference]


@pytest.mark.parametrize("path", ["/api/v1/stations/", "/api/v1/services/", "/api/v1/departures/",
                                  "/api/v1/vessel-calls/"])
def test_list_queries_do_not_grow_with_page_size(api_client, network, path, django_assert_max_num_queries):
    for n in range(6):
        svc = Service.objects.get(code="JINHUA-E-BLG-R")
        factories.vessel_call(network.beilun, etd=network.vessel_call.etd + timedelta(days=n + 1),
                              destinations=("NLRTM", "DEHAM"))
        factories.service(network.jinhua, network.beilun, network.railway, weekdays=svc.weekdays)
        factories.station(f"EXTRA-{n}")

    with django_assert_max_num_queries(6):
        small = api_client.get(path, {"page_size": 2})
    with django_assert_max_num_queries(6):
        large = api_client.get(path, {"page_size": 100})

    assert small.status_code == large.status_code == 200
    assert len(large.json()["results"]) > len(small.json()["results"])


def test_openapi_schema_and_docs_are_served_without_a_cdn(client, db):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/departures/" in schema.content
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower()


def test_openapi_schema_is_valid_and_generates_without_warnings(db, tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert "/api/v1/bookings/{reference}/roll/" in (tmp_path / "schema.yaml").read_text()


def test_the_schema_is_made_once_per_language_and_format_and_served_as_drf_spectacular_makes_it(db, monkeypatch):
    """GET /api/schema/ is the same for every caller: made once per process for each language, version and format
    (intermodal/schema_view.py), each answer byte for byte what drf-spectacular's own view answers."""
    from django.test import RequestFactory
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.views import SpectacularAPIView

    from intermodal.schema_view import SchemaView

    monkeypatch.setattr(SchemaView, "_made", {})
    made = []
    generate = SchemaGenerator.get_schema
    monkeypatch.setattr(SchemaGenerator, "get_schema", lambda self, **kw: made.append(1) or generate(self, **kw))
    factory = RequestFactory()
    variants = [(language, accept) for language in ("en", "zh-hans")
                for accept in ("application/vnd.oai.openapi", "application/json")]
    for language, accept in variants:
        with translation.override(language):
            theirs = SpectacularAPIView.as_view()(factory.get("/api/schema/", HTTP_ACCEPT=accept)).render()
            ours = [SchemaView.as_view()(factory.get("/api/schema/", HTTP_ACCEPT=accept)) for _ in range(3)]
        for answer in ours:
            assert answer.status_code == theirs.status_code == 200
            assert answer.content == theirs.content
            assert answer["Content-Type"] == theirs["Content-Type"]
            assert answer["Content-Disposition"] == theirs["Content-Disposition"]
            assert answer["Vary"] == theirs["Vary"]
    # drf-spectacular made each variant once for its own view, and ours once for all three of its answers.
    assert len(made) == 2 * len(variants)
    with translation.override("zh-hans"):
        chinese = SchemaView.as_view()(factory.get("/api/schema/")).content
    with translation.override("en"):
        assert SchemaView.as_view()(factory.get("/api/schema/")).content != chinese
