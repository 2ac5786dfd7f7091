"""Chinese pages bring their own font: Noto Sans SC (OFL), installed from npm (assets/package.json) and served by
the app, never a CDN, so a machine without a Chinese font shows characters, not boxes."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client


def test_the_font_is_installed_and_found_by_the_static_files(db):
    css = finders.find("fonts/noto-sans-sc/index.css")

    assert settings.CJK_WEB_FONT_DIR.is_dir(), "run `make assets` (npm ci --prefix assets)"
    assert css and "Noto Sans SC Variable" in Path(css).read_text(encoding="utf-8")
    assert finders.find("fonts/noto-sans-sc/files/noto-sans-sc-4-wght-normal.woff2")


def test_every_page_links_it_and_the_stylesheet_falls_back_to_it(db):
    page = Client().get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    stylesheet = Path(finders.find("css/app.css")).read_text(encoding="utf-8")

    assert "/static/fonts/noto-sans-sc/index.css" in page
    assert '"Noto Sans SC Variable"' in stylesheet
