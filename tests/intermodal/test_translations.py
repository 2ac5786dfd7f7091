"""The Simplified Chinese catalogue is complete and current: every marked string has a translation."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# manage.py, the templates and every app of the project (those installed from packages are not ours).
SOURCES = ["manage.py", "templates", *dict.fromkeys(
    top for top in (config.name.split(".")[0] for config in apps.get_app_configs()) if (ROOT / top).is_dir())]


def entries(po_text: str) -> dict[tuple[str, str], dict]:
    """(context, msgid) -> {"msgstr": [...], "fuzzy": bool}, for a gettext catalogue without a library."""
    result = {}
    for block in re.split(r"\n\s*\n", po_text):
        lines = [line for line in block.strip().splitlines() if not line.startswith("#~")]
        fields: dict[str, str] = {}
        current = None
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        for line in lines:
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if "msgid" in fields and fields["msgid"]:
            strings = [v for k, v in fields.items() if k.startswith("msgstr")]
            result[(fields.get("msgctxt", ""), fields["msgid"])] = {
                "msgstr": strings, "fuzzy": fuzzy, "plural": fields.get("msgid_plural"),
            }
    return result


def test_every_string_in_the_catalogue_is_translated():
    catalogue = entries(CATALOGUE.read_text(encoding="utf-8"))

    untranslated = [msgid for msgid, entry in catalogue.items() if not all(entry["msgstr"])]
    fuzzy = [msgid for msgid, entry in catalogue.items() if entry["fuzzy"]]

    assert len(catalogue) > 100
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.skipif(not shutil.which("xgettext") and not os.environ.get("CI"),
                    reason="GNU gettext is not installed (.ci/run installs it; CI never skips this)")
def test_the_catalogue_holds_every_string_marked_in_the_code(tmp_path):
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
        else:
            shutil.copy(source, tmp_path / name)
    (tmp_path / "locale").mkdir()

    subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "-v", "0"],
                   cwd=tmp_path, check=True, capture_output=True, timeout=120)

    marked = set(entries((tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po").read_text(encoding="utf-8")))
    catalogued = set(entries(CATALOGUE.read_text(encoding="utf-8")))
    missing = sorted(marked - catalogued)
    assert missing == [], "run `make messages` and translate these"


def test_compiled_catalogue_matches_the_source():
    import gettext

    with CATALOGUE.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    stale = []
    for (context, msgid), entry in entries(CATALOGUE.read_text(encoding="utf-8")).items():
        if "\\" in msgid + entry["msgstr"][0]:
            continue  # escapes are written differently in the .po; the pages show those strings
        if entry["plural"]:
            got = compiled.npgettext(context, msgid, entry["plural"], 2) if context else compiled.ngettext(
                msgid, entry["plural"], 2)
        else:
            got = compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)
        if got != entry["msgstr"][0]:
            stale.append(msgid)
    assert stale == [], "run `make messages` to compile the catalogue"


# --- Pages and API errors as people see them in Chinese --------------------------------------------------

# Identifiers shown as they are in any language: references, codes, CSV column names.
CODE_ELEMENT = re.compile(r'(?s)<(span|a|td|th|p|div)\b[^>]*\bclass="(?:[^"]*\s)?code(?:\s[^"]*)?"[^>]*>.*?</\1>'
                          r"|<(code|kbd)\b[^>]*>.*?</\2>")


def shown_text(html: str) -> str:
    """What a person sees or hears of a page: its text and the labels, titles and placeholders of controls."""
    from html import unescape

    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    html = CODE_ELEMENT.sub(" ", html)
    attributes = re.findall(r'\s(?:aria-label|title|placeholder|alt)="([^"]*)"', html)
    text = re.sub(r"(?s)<[^>]+>", " ", html)
    return unescape(" ".join([text, *attributes]))


def english_left(html: str, data: tuple[str, ...] = ()) -> list[str]:
    from tests.browser.pages import english_in

    return english_in(shown_text(html), data)


@pytest.fixture
def journey_state(db):
    from tests.browser import scenario

    scenario.demo_network()
    return scenario.declared()


def test_the_main_pages_of_every_party_show_no_english_in_chinese(client, journey_state):
    from intermodal.models import User
    from journey.demo_imports import GOODS
    from tests.browser import scenario
    from tests.browser.test_accessibility import main_pages

    # What people typed: the journey's goods, and those of the demo's imports (main_pages has import pages).
    typed = (scenario.COMMODITY, scenario.GOODS, *(description for _, description, _ in GOODS.values()))
    found = {}
    for username, paths in main_pages(journey_state).items():
        client.logout()
        if username:
            user = User.objects.get(username=username)
            user.language = "zh-hans"
            user.save(update_fields=["language"])
            client.force_login(user)
        else:
            client.cookies["django_language"] = "zh-hans"
        for path in paths:
            response = client.get(path)
            assert response.status_code in (200, 404), path
            assert 'lang="zh-hans"' in response.content.decode()
            leftovers = english_left(response.content.decode(), data=typed)
            if leftovers:
                found[f"{username or 'anonymous'} {path}"] = leftovers

    assert found == {}


def test_the_import_pages_of_every_party_show_no_english_in_chinese(client, db):
    """The consignee's imports and import booking, the port's arriving vessels and rail outbound, the station's
    import yard, board and scan, the railway's import manifest and the tracking of an import, in Chinese."""
    from intermodal.models import User
    from tests.browser import scenario

    scenario.demo_network()
    booking = scenario.imported()
    found = {}
    for username, paths in {
        "shipper-a": ["/operations/imports/", f"/bookings/{booking.reference}/", "/bookings/?direction=import",
                      f"/operations/track/?q={scenario.NUMBERS[0]}"],
        "port": ["/operations/port/", "/operations/port/imports/",
                 f"/operations/port/imports/vessel/{scenario.IMPORT_VESSEL_CALL}/"],
        "yiwu-staff": ["/operations/station/imports/?station=YIWU-W", "/operations/station/?station=YIWU-W",
                       "/operations/scan/?action=gate_out"],
        "railway": ["/operations/railway/", f"/operations/railway/{booking.departure.reference}/"],
    }.items():
        user = User.objects.get(username=username)
        user.language = "zh-hans"
        user.save(update_fields=["language"])
        client.force_login(user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            leftovers = english_left(response.content.decode(), data=(scenario.COMMODITY, "MSC Anna"))
            if leftovers:
                found[f"{username} {path}"] = leftovers

    assert found == {}


def test_the_check_finds_english_left_on_a_chinese_page():
    page = '<html lang="zh-hans"><h1>订舱</h1><p>No bookings match these filters.</p><input placeholder="search here">'

    found = english_left(page)

    assert "No bookings match these filters." in found  # from the catalogue
    assert "search here" in found  # never marked for translation
    assert english_left('<html lang="zh-hans"><h1>订舱 BK-2026-000001</h1><p>CSQU3054383 · 2 x 42G1 · kg</p>'
                        '<p>列：<span class="code">destination, containers, commodity</span></p>') == []


def test_api_errors_speak_the_language_asked_for(client, db):
    response = client.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404
    assert response.json()["detail"] == "未找到。"

    response = client.get("/api/v1/bookings/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert not re.search(r"[A-Za-z]{3}", response.json()["detail"])

    response = client.get("/api/v1/departures/?departs_after=tomorrow", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == "输入无效。"
    assert all(not re.search(r"[A-Za-z]{3}", message) for messages in body["errors"].values() for message in messages)
