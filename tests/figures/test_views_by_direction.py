"""The figures page, its exports and GET /api/v1/figures/ with a direction, on the mixed data set of
test_imports.py: the same figures, the filter on the form, bad values refused by field."""

import csv
import io

import pytest
from openpyxl import load_workbook

from tests import factories
from tests.figures.conftest import PERIOD
from tests.figures.test_imports import mixed_data  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
QUERY = {"date_from": PERIOD["date_from"].isoformat(), "date_to": PERIOD["date_to"].isoformat()}


def test_the_page_filters_by_direction_and_shows_the_import_figures(client, mixed_data):  # noqa: F811
    client.force_login(factories.user(mixed_data.network.port))

    imports = client.get("/figures/", {**QUERY, "direction": "import"}).content.decode()
    both = client.get("/figures/", QUERY).content.decode()
    exports = client.get("/figures/", {**QUERY, "direction": "export"}).content.decode()

    assert '<option value="import" selected>Import</option>' in imports
    assert "Imports only: vessel to inland station." in imports
    assert "3 of 5 containers available at the inland station by the promised day" in imports
    assert 'id="kpi-dwell"' in imports and "102.0 h" in imports
    assert 'id="kpi-detention"' in imports and "10.0 days" in imports
    assert "CNY 900" in imports and "detention CNY 800: 1 of 2 empties returned, 4 days charged" in imports
    assert 'id="kpi-empty-wait"' not in imports and 'id="kpi-empty-wait"' in both
    assert 'id="chart-dwell"' in imports and 'id="chart-match-back"' not in imports
    assert "7 TEU" in imports
    assert "Exports: 19 of 20 on their first-booked vessel (95.0%)" in both
    assert "imports: 3 of 5 available by the promised day (60.0%)" in both
    assert 'id="kpi-match-back"' in exports and "1 of 3 empties handed out · 310 empty km saved" in exports
    assert 'id="kpi-dwell"' not in exports and "26 TEU" in exports


def test_the_page_in_chinese_with_a_direction(client, mixed_data):  # noqa: F811
    client.force_login(factories.user(mixed_data.network.port, language="zh-hans"))
    client.cookies["django_language"] = "zh-hans"

    response = client.get("/figures/", {**QUERY, "direction": "import"}, HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="zh-hans"' in html and 'id="kpi-dwell"' in html


def test_a_bad_direction_is_shown_on_the_form(client, mixed_data):  # noqa: F811
    client.force_login(factories.user(mixed_data.network.port))

    response = client.get("/figures/", {**QUERY, "direction": "sideways"})

    assert response.status_code == 200
    assert "Select a valid choice. sideways is not one of the available choices." in response.content.decode()


def test_the_exports_hold_the_direction_on_the_screen(client, mixed_data):  # noqa: F811
    client.force_login(factories.user(mixed_data.network.port))

    response = client.get("/figures/export.csv", {**QUERY, "direction": "import"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert ["2025-03-01", "4", "2", "50.0"] in rows  # on schedule: March's imports
    assert ["demurrage", "4", "1", "3", "900.0", "CNY"] in rows
    assert ["detention", "2", "1", "4", "800.0", "CNY"] in rows

    workbook = load_workbook(io.BytesIO(client.get("/figures/export.xlsx", QUERY).content))
    assert list(workbook["Match-back"].iter_rows(values_only=True))[2] == ("2025-04-01", 3, 1, 33.3, 310)
    # March: 72, 132 and 194 hours; the 90th percentile at rank 1.8
    assert list(workbook["Import dwell"].iter_rows(values_only=True))[1] == ("2025-03-01", 3, 132.0, 181.6)


def test_the_api_takes_a_direction_and_keeps_its_fields(api_client, mixed_data):  # noqa: F811
    _key, raw = factories.api_key(mixed_data.network.port)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    both = api_client.get("/api/v1/figures/", QUERY).json()
    imports = api_client.get("/api/v1/figures/", {**QUERY, "direction": "import"}).json()

    assert both["direction"] is None and imports["direction"] == "import"
    assert (both["on_schedule"]["rate"], imports["on_schedule"]["rate"]) == (88.0, 60.0)
    assert both["on_schedule"]["by_direction"]["import"] == {"containers": 5, "on_schedule": 3, "rate": 60.0}
    assert (imports["throughput"]["teu"], imports["dwell"]["median_hours"], imports["detention"]["median_days"]) == (
        7, 102.0, 10.0)
    assert imports["free_time_charges"]["demurrage"]["amounts"] == [{"currency": "CNY", "amount": 900.0}]
    assert (both["match_back"]["share"], both["match_back"]["km_saved"]) == (33.3, 310)
    for field in ("period", "station", "service", "on_schedule", "empty_wait", "throughput", "load_factor", "cost",
                  "clearance", "cargo_mix"):
        assert field in imports

    response = api_client.get("/api/v1/figures/", {"direction": "sideways"})
    assert response.status_code == 400 and set(response.json()["errors"]) == {"direction"}


def test_the_direction_is_in_the_openapi_schema(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/figures/"]["get"]["parameters"]}
    assert parameters["direction"]["schema"]["enum"] == ["export", "import"]
    assert "match_back" in str(schema["components"]["schemas"])
