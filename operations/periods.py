"""Date navigation on the operations pages (railway departures, the port's vessel calls, the station board): a
period of days chosen with `from` and `to` (YYYY-MM-DD, the station's or Shanghai's days), stepped back and forth
by its own length, with the page's own window (e.g. today and the next three days) when none is chosen."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from intermodal.forms import InputPolicyForm

MAX_DAYS = 31  # one page holds at most a month of departures or calls


class PeriodForm(InputPolicyForm, forms.Form):
    start = forms.DateField(label=pgettext_lazy("first day of a period", "From"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label=pgettext_lazy("last day of a period", "To"), required=False,
                          widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The period ends before it starts."))
        elif start and end and (end - start).days >= MAX_DAYS:
            self.add_error("end", _("Choose at most %(n)s days.") % {"n": MAX_DAYS})
        return cleaned


@dataclass
class Period:
    start: date
    end: date
    today: date
    is_default: bool
    others: list[tuple[str, str]] = field(default_factory=list)  # the page's other parameters, kept
    form: PeriodForm | None = None

    @property
    def status(self) -> int:
        """The page's status: 400 when the period asked for is wrong (the default period is shown with why)."""
        return 400 if self.form is not None and self.form.is_bound and self.form.errors else 200

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def includes_today(self) -> bool:
        return self.start <= self.today <= self.end

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]

    def _url(self, start: date | None, end: date | None) -> str:
        query = list(self.others)
        if start is not None:
            query += [("from", start.isoformat()), ("to", end.isoformat())]
        return f"?{urlencode(query)}" if query else "?"

    @property
    def previous_url(self) -> str:
        step = timedelta(days=self.days)
        return self._url(self.start - step, self.end - step)

    @property
    def next_url(self) -> str:
        step = timedelta(days=self.days)
        return self._url(self.start + step, self.end + step)

    @property
    def today_url(self) -> str:
        return self._url(None, None)


def period_from(request, *, today: date, default_start: date, default_end: date) -> Period:
    """The period the page shows: `from`/`to` from the query (a bad one is shown on the form, and the default
    period applies), else the page's default."""
    data = {"start": request.GET.get("from", ""), "end": request.GET.get("to", "")}
    others = [(key, value) for key, value in request.GET.items() if key not in ("from", "to")]
    chosen = any(data.values())
    form = PeriodForm(data if chosen else None, initial={"start": default_start, "end": default_end})
    if chosen and form.is_valid():
        start = form.cleaned_data["start"] or form.cleaned_data["end"]
        end = form.cleaned_data["end"] or start
        return Period(start, end, today, is_default=False, others=others, form=form)
    return Period(default_start, default_end, today, is_default=True, others=others, form=form)
