"""The dashboard page, its exports and GET /api/v1/figures/: the same figures, scoped to the caller."""

import csv
import io

import pytest
from openpyxl import load_workbook

from intermodal.models import PartyKind, Scope
from tests import factories
from tests.figures.conftest import PERIOD

pytestmark = pytest.mark.django_db
QUERY = {"date_from": PERIOD["date_from"].isoformat(), "date_to": PERIOD["date_to"].isoformat()}


def test_dashboard_draws_accessible_charts_with_the_goal_line(client, figures_data):
    client.force_login(factories.user(figures_data.network.port))

    response = client.get("/figures/", QUERY)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<svg class="chart" id="chart-on-schedule"' in html and 'role="img"' in html
    assert '<title id="chart-on-schedule-title">On-schedule shipment rate by month</title>' in html
    assert 'class="chart-goal"' in html and "Goal 95%" in html
    assert "95.0%" in html  # the tile
    for chart in ("chart-empty-wait", "chart-clearance", "chart-teu-month", "chart-teu-station", "chart-load-factor",
                  "chart-cost", "chart-cargo-mix"):
        assert f'id="{chart}"' in html
    assert 'href="/figures/"' in html and 'aria-current="page"' in html  # the nav link


def test_dashboard_in_chinese(client, figures_data):
    client.force_login(factories.user(figures_data.network.port, language="zh-hans"))
    client.cookies["django_language"] = "zh-hans"

    html = client.get("/figures/", QUERY, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "按月准点发运率" in html


def test_local_government_page_has_no_prices_or_party_names(client, figures_data):
    gov = factories.organisation(PartyKind.LOCAL_GOVERNMENT, province="Zhejiang")
    client.force_login(factories.user(gov))

    html = client.get("/figures/", QUERY).content.decode()

    assert 'id="chart-cargo-mix"' in html and 'id="kpi-on-schedule"' in html
    assert 'id="chart-cost"' not in html and 'id="kpi-saving"' not in html
    assert figures_data.shipper.org.name not in html and figures_data.other_shipper.org.name not in html
    assert "CNY" not in html


def test_bad_filters_are_shown_on_the_form(client, figures_data):
    client.force_login(factories.user(figures_data.network.operator))

    response = client.get("/figures/", {**QUERY, "station": "JINHUA-E"})

    assert response.status_code == 200
    assert "JINHUA-E is not one of the available choices" in response.content.decode()


def test_person_without_organisation_gets_a_refusal(client, db):
    client.force_login(_orgless())

    assert client.get("/figures/").status_code == 403


def _orgless():
    from intermodal.models import User

    return User.objects.create_user(username="nobody", password="pw-Strong-123")


def test_export_csv_has_the_figures_of_the_screen(client, figures_data):
    client.force_login(factories.user(figures_data.network.port))

    response = client.get("/figures/export.csv", QUERY)

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert ["2025-03-01", "20", "19", "95.0"] in rows
    assert ["YIWU-W", "Yiwu West", "25", "3"] in rows


def test_export_xlsx_has_a_sheet_per_table(client, figures_data):
    client.force_login(factories.user(figures_data.shipper.org))

    response = client.get("/figures/export.xlsx", QUERY)

    workbook = load_workbook(io.BytesIO(response.content))
    assert "Load factor" not in workbook.sheetnames  # not an enterprise's figure
    rows = list(workbook["Empty wait"].iter_rows(values_only=True))
    assert rows[0] == ("month", "requests", "median hours", "90th percentile hours")
    assert rows[1] == ("2025-03-01", 10, 5.5, 9.1)


def test_api_figures_with_a_key(api_client, figures_data):
    _key, raw = factories.api_key(figures_data.network.port)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = api_client.get("/api/v1/figures/", QUERY)

    assert response.status_code == 200
    body = response.json()
    assert body["on_schedule"]["rate"] == 95.0
    assert (body["empty_wait"]["median_hours"], body["clearance"]["share_without_inspection"]) == (6.0, 66.7)


def test_api_figures_refusals(api_client, figures_data):
    _key, raw = factories.api_key(figures_data.network.operator, scopes=[Scope.SCHEDULES_READ])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get("/api/v1/figures/").status_code == 403

    _key, raw = factories.api_key(figures_data.network.operator)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api_client.get("/api/v1/figures/", {"station": "JINHUA-E", "date_from": "2025-13-01"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"date_from"}
    response = api_client.get("/api/v1/figures/", {"station": "JINHUA-E"})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"station"}

    gov = factories.organisation(PartyKind.LOCAL_GOVERNMENT, province="Zhejiang")
    _key, raw = factories.api_key(gov)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api_client.get("/api/v1/figures/", QUERY).json()["cost"] is None


def test_figures_are_in_the_openapi_schema(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/figures/" in schema and "on_schedule" in schema


def test_dashboard_queries_do_not_grow_with_the_data(client, figures_data, django_assert_max_num_queries):
    client.force_login(factories.user(figures_data.network.port))
    with django_assert_max_num_queries(22):
        assert client.get("/figures/", QUERY).status_code == 200


def test_bill_of_lading_endpoints_are_in_the_openapi_schema(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "/api/v1/bookings/{reference}/bill-of-lading/" in paths
    assert "post" in paths["/api/v1/bookings/{reference}/bill-of-lading/issue/"]
    assert "application/pdf" in str(paths["/api/v1/bookings/{reference}/bill-of-lading/pdf/"])
