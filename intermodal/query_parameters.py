"""A query parameter an endpoint does not take is a 400 naming it: a typo such as `equipmentRefrence=` or
`statoin=` no longer reads as "no filter" and answers everything. What an endpoint takes is what its OpenAPI
schema documents (django-filter's filters, paging, ordering, the views' declared parameters): one source for
the docs and the check, read once per process. The text policy (guard/text.py) applies to every value here,
so no filter, query serializer or hand-parsed parameter is ever given a NUL or a control character."""

import threading

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions

from guard.text import NUMBER_MESSAGE, is_ascii_number, text_problem

# DRF's format override (?format=json), taken by every endpoint.
ALWAYS = frozenset({"format"})
MAX_NAMED = 20

_documented: dict[tuple[str, str], frozenset[str]] | None = None
# The parameters the schema calls numbers: the text policy takes ASCII digits only there (Python's int() and
# Decimal() would read other scripts' digits).
_numeric: dict[tuple[str, str], frozenset[str]] = {}
_lock = threading.Lock()


def documented(view_name: str, method: str) -> frozenset[str] | None:
    """The query parameters the schema documents for the route and method; None for a route it does not show."""
    global _documented
    if _documented is None:
        with _lock:
            if _documented is None:
                # Not at module load: DRF imports this class while rest_framework.views is still loading, and the
                # schema generator needs that module whole.
                from drf_spectacular.generators import SchemaGenerator

                from intermodal.schema import view_name_of

                schema = SchemaGenerator().get_schema(request=None, public=True)
                _numeric.update({
                    (view_name_of(path), method.upper()): frozenset(
                        p["name"] for p in operation.get("parameters", [])
                        if p.get("in") == "query" and p.get("schema", {}).get("type") in ("integer", "number"))
                    for path, operations in schema.get("paths", {}).items()
                    for method, operation in operations.items() if isinstance(operation, dict)
                })
                _documented = {
                    (view_name_of(path), method.upper()): frozenset(
                        p["name"] for p in operation.get("parameters", []) if p.get("in") == "query")
                    for path, operations in schema.get("paths", {}).items()
                    for method, operation in operations.items() if isinstance(operation, dict)
                }
    return _documented.get((view_name, method.upper()))


def load() -> None:
    """Read what every route takes from the schema now: a server process does it as it starts (intermodal/wsgi.py),
    not in its first API request, which it cost a third of a second."""
    documented("", "GET")


class KnownQueryParameters(permissions.BasePermission):
    """A default permission of every API view, checked after the caller's access (so a stranger gets its 401)."""

    def has_permission(self, request, view):
        match = getattr(request, "resolver_match", None)
        allowed = documented(match.view_name, request.method) if match else None
        unknown = sorted(set(request.query_params) - allowed - ALWAYS) if allowed is not None else []
        if unknown:
            raise exceptions.ValidationError(
                {_printable(name): [_("This endpoint takes no such query parameter.")] for name in unknown[:MAX_NAMED]})
        numeric = _numeric.get((match.view_name, request.method.upper()), frozenset()) if match else frozenset()
        refused: dict[str, list[str]] = {}
        for name, values in request.query_params.lists():
            for value in values:
                problem = text_problem(value.strip())
                if problem is None and name in numeric and value.strip() and not is_ascii_number(value):
                    problem = str(NUMBER_MESSAGE)
                if problem:
                    refused.setdefault(_printable(name), []).append(problem)
                    break
        if refused:
            raise exceptions.ValidationError(dict(list(refused.items())[:MAX_NAMED]))
        return True


def _printable(name: str) -> str:
    return name.encode("unicode_escape").decode("ascii") if not name.isprintable() else name
