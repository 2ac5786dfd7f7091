"""The Simplified Chinese catalogue is complete and current: every marked string has a translation."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SOURCES = ["manage.py", "intermodal", "stations", "bookings", "customs", "templates"]


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
