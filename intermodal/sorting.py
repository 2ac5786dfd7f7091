"""Sortable columns of the pages' lists: `?sort=<column>` (ascending) or `?sort=-<column>` (descending), among
the columns a list offers; anything else keeps the list's own order. Each column's header links to the other
direction and says which way the list is sorted (aria-sort), for screen readers too; where a list's headers are
hidden (its rows stacked as cards on a tablet or a phone), the same links stand above it as a sort bar."""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import QuerySet


@dataclass(frozen=True)
class Column:
    label: str  # the header's text (a lazy translation)
    fields: tuple[str, ...]  # what it orders by
    title: str = ""  # what an abbreviated label stands for


@dataclass
class Sort:
    columns: dict[str, Column]
    key: str = ""  # the column sorted on ("" for the list's own order)
    descending: bool = False
    others: list[tuple[str, str]] = field(default_factory=list)  # the page's other parameters, page number aside

    def apply(self, queryset: QuerySet, within: tuple[str, ...] = ()) -> QuerySet:
        """The queryset in the column's order; `within`: the groups the page shows the list in (e.g. its days),
        kept first so that each group is sorted on its own."""
        if not self.key:
            return queryset
        sign = "-" if self.descending else ""
        return queryset.order_by(*within, *(f"{sign}{name}" for name in self.columns[self.key].fields), f"{sign}pk")

    @property
    def headers(self) -> dict[str, dict]:
        """For each column: its label, the link that sorts by it (the other way when it is the current one) and
        its state."""
        headers = {}
        for key, column in self.columns.items():
            current = key == self.key
            flip = current and not self.descending
            state = ("descending" if self.descending else "ascending") if current else "none"
            query = [*self.others, ("sort", f"-{key}" if flip else key)]
            headers[key] = {"url": f"?{urlencode(query)}", "state": state, "label": column.label,
                            "title": column.title, "key": key}
        return headers


def sort_from(request, columns: dict[str, Column]) -> Sort:
    asked = request.GET.get("sort", "")
    key = asked.removeprefix("-")
    others = [(name, value) for name, value in request.GET.items() if name not in ("sort", "page")]
    if key not in columns:
        return Sort(columns, others=others)
    return Sort(columns, key=key, descending=asked.startswith("-"), others=others)
