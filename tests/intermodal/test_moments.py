"""One way to write a moment per language, always in Asia/Shanghai: in a template and from Python alike."""

from datetime import UTC, date, datetime

from django.template import Context, Template
from django.utils import translation

from intermodal.templatetags.moments import day, moment

ONE_AM_UTC = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


def test_a_moment_is_shown_in_shanghai_time_in_templates_and_from_python():
    with translation.override("en"):
        rendered = Template("{{ t|moment }} · {{ t|day }}").render(Context({"t": ONE_AM_UTC}))
        assert rendered == "Fri 4 Dec 09:00 · Fri 4 Dec"
        assert moment(ONE_AM_UTC) == "Fri 4 Dec 09:00"
    with translation.override("zh-hans"):
        assert moment(ONE_AM_UTC) == "12月4日 周五 09:00"
        assert day(date(2026, 12, 4)) == "12月4日 周五"
    assert moment(None) == ""
