"""The layout keeps its promises (README, Architecture): apps of a readable size, one database engine, the
import contracts checked by `make lint`."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parents[1]
TOP_PACKAGES = {config.name.split(".")[0] for config in apps.get_app_configs()}
APPS = sorted(top for top in TOP_PACKAGES if (ROOT / top).is_dir())  # installed from packages: not ours
MAX_APP_LINES = 4000


def _sources(app: str):
    return [path for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts]


def test_the_project_apps_are_the_layout_the_readme_draws():
    assert sorted(["audit", "guard", "intermodal", "stations", "bookings", "inbound", "customs", "bkg", "tracking",
                   "schedules", "journey", "operations", "documents", "figures", "edi", "notifications", "worklists",
                   "retention", "databases"]) == APPS


@pytest.mark.parametrize("app", APPS)
def test_no_app_is_over_about_four_thousand_lines(app):
    lines = sum(len(path.read_text(encoding="utf-8").splitlines()) for path in _sources(app))
    assert lines <= MAX_APP_LINES, f"{app} has {lines} lines: give one of its jobs a room of its own"


def test_application_code_never_asks_which_database_it_runs_on():
    asking = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for app in APPS for path in _sources(app)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "vendor"
    ]
    assert asking == []


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 kept, 0 broken" in result.stdout
