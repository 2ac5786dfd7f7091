"""One way to write a moment or a day on every page, per language: `Fri 4 Dec 16:30` and `12月4日 周五 16:30`
(`moment`), with seconds where the order of attempts matters (`moment_seconds`), a day (`day`: `Fri 4 Dec`,
`12月4日 周五`) and a day with its year for periods (`day_year`). Times are Asia/Shanghai (the active zone).
Built into every template (settings.TEMPLATES builtins): no `{% load %}` needed."""

from datetime import datetime

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.translation import pgettext

register = template.Library()


def _formatted(value, fmt: str) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)  # called from Python too, where no template converts it
    return date_filter(value, fmt)


@register.filter(expects_localtime=True)
def moment(value) -> str:
    return _formatted(value, pgettext("date format of departures and cut-offs, see the date template filter",
                                      "D j M H:i"))


@register.filter(expects_localtime=True)
def moment_seconds(value) -> str:
    return _formatted(value, pgettext("date format of a moment to the second, see the date template filter",
                                      "D j M H:i:s"))


@register.filter(expects_localtime=True)
def day(value) -> str:
    return _formatted(value, pgettext("date format of a day in a list, see the date template filter", "D j M"))


@register.filter(expects_localtime=True)
def day_year(value) -> str:
    return _formatted(value, pgettext("date format of a day with its year, see the date template filter", "j M Y"))
