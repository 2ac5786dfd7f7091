"""One item of a party's work queue: what needs its action, how urgent, since when, and the page that resolves it.
worklists.queues and worklists.imports build them; the home page shows them (templates/worklists/queue.html)."""

from dataclasses import dataclass
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import ngettext

NOW, SOON, LATER = 0, 1, 2  # urgency: act now (a deadline passed or is today), soon, when there is time


@dataclass(frozen=True)
class WorkItem:
    urgency: int
    since: datetime  # the deadline or the moment it started waiting: older first
    kind: str  # for the page's styling and the tests
    title: str
    detail: str
    url: str
    action: str

    @property
    def is_urgent(self) -> bool:
        return self.urgency == NOW


@dataclass(frozen=True)
class WorkQueue:
    items: list[WorkItem]
    total: int


def count_containers(n: int) -> str:
    return ngettext("%(n)s container", "%(n)s containers", n) % {"n": n}


def start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))
