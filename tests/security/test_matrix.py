"""The permission matrix (intermodal/permissions.py) against every route Django resolves.

Every route must be in the matrix (a new route that is not fails here, by name), and every route answers
every party kind (by session and, on the API, by API key with the party's default scopes), anonymous callers
and a revoked key as the matrix says, on the caller's own organisation's object and on another's.
"""

from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from intermodal import permissions
from intermodal.models import PartyKind
from intermodal.permissions import MATRIX, Caller, Outcome, expected
from tests.conftest import rolled_back
from tests.security import world as worlds


def _walk(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            ns = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
            yield from _walk(pattern.url_patterns, ns)
        elif isinstance(pattern, URLPattern):
            if pattern.name is None:
                # Unnamed routes cannot be listed; only the admin's own are allowed (its one rule covers them).
                name = f"{namespace}:<unnamed>" if namespace == permissions.ADMIN_NAMESPACE else None
            else:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, pattern


def resolved_routes() -> dict[str, list[URLPattern]]:
    routes: dict[str, list[URLPattern]] = {}
    for name, pattern in _walk(get_resolver().url_patterns):
        routes.setdefault(name, []).append(pattern)
    return routes


ROUTES = resolved_routes()


def test_every_route_is_in_the_matrix():
    unnamed = [str(p[0].pattern) for name, p in ROUTES.items() if name is None]
    missing = sorted(name for name in ROUTES if name and not name.startswith(f"{permissions.ADMIN_NAMESPACE}:")
                     and name not in MATRIX)
    stale = sorted(set(MATRIX) - set(ROUTES))

    assert not unnamed, f"Routes without a name cannot be in the permission matrix: {unnamed}"
    assert not missing, (
        f"Routes missing from the permission matrix (intermodal/permissions.py MATRIX): {', '.join(missing)}"
    )
    assert not stale, f"The permission matrix lists routes that no longer exist: {', '.join(stale)}"


def _view_methods(pattern: URLPattern) -> set[str] | None:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:
        # DRF adds HEAD (as GET) to a viewset's actions on its first request: HEAD is GET here.
        return {m.upper() for m in actions} - {"HEAD"}
    view_class = getattr(callback, "cls", None)
    if view_class is not None and hasattr(view_class, "initial"):  # a DRF APIView
        return {m.upper() for m in view_class.http_method_names if hasattr(view_class, m) and m not in (
            "options", "head")}
    return None


@pytest.mark.parametrize("view_name", sorted(n for n, r in MATRIX.items() if r.api))
def test_the_matrix_lists_exactly_the_methods_an_api_view_answers(view_name):
    answered = set()
    for pattern in ROUTES[view_name]:
        answered |= _view_methods(pattern) or set()

    assert set(MATRIX[view_name].methods) == answered


@pytest.mark.parametrize("view_name", sorted(n for n, r in MATRIX.items() if r.api))
def test_views_declare_no_scope_other_than_the_matrix(view_name):
    view_class = getattr(ROUTES[view_name][0].callback, "cls", None)
    declared = getattr(view_class, "required_scopes", None) or {}
    actions = getattr(ROUTES[view_name][0].callback, "actions", {}) or {}
    for method, access in MATRIX[view_name].methods.items():
        own = declared.get(actions.get(method.lower())) or declared.get(method) or declared.get("*")
        assert own in (None, access.scope), f"{view_name} {method}: the view says {own}, the matrix {access.scope}"


# --- Every route, every caller ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once for the module inside a transaction that is rolled back at its end."""
    with rolled_back(django_db_blocker):
        built = worlds.build()
        built.sessions = _sessions(built)
        yield built


def _sessions(built) -> dict[str, str]:
    """A session of each party kind's person, made once for the module: each route's callers present its cookie
    (a login for each caller of each route, about 3,000 in all, was a tenth of the module's time). A request that
    ends or changes its session is rolled back with the rest of what it wrote (the test's `transaction.atomic`)."""
    sessions = {}
    for kind, user in built.own.users.items():
        client = Client()
        client.force_login(user)
        sessions[kind] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return sessions


def classify(response, *, api: bool) -> Outcome | str:
    status = response.status_code
    if status >= 500 or status == 405:
        return f"HTTP {status}"
    if status == 401:
        return Outcome.LOGIN
    if status in (302, 303) and "?next=" in response.get("Location", "") and "/login/" in response["Location"]:
        return Outcome.LOGIN
    if status == 403:
        return Outcome.FORBIDDEN
    if status == 404:
        return Outcome.HIDDEN
    return Outcome.ALLOW


def _callers(route):
    for kind in PartyKind.values:
        yield kind, Caller.SESSION
        if route.api:
            yield kind, Caller.KEY
    yield None, Caller.ANONYMOUS
    yield None, Caller.REVOKED_KEY


def _client(built, kind, caller, api: bool):
    client = APIClient() if api else Client()
    if caller == Caller.SESSION:
        client.cookies[settings.SESSION_COOKIE_NAME] = built.sessions[kind]
    elif caller == Caller.KEY:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {built.own.keys[kind][1]}")
    elif caller == Caller.REVOKED_KEY:
        if api:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {built.revoked_raw}")
        else:
            client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {built.revoked_raw}"
    return client


def _call(client, method: str, url: str, body, api: bool):
    send = getattr(client, method.lower())
    if api:
        return send(url, body, format="json") if body is not None else send(url)
    return send(url, body or {})


@pytest.mark.django_db
@pytest.mark.parametrize("view_name", sorted(MATRIX))
def test_the_route_answers_every_caller_as_the_matrix_says(view_name, world):
    route = MATRIX[view_name]
    url_kwargs = set(ROUTES[view_name][0].pattern.regex.groupindex)
    mismatches = []
    for kind, caller in _callers(route):
        client = _client(world, kind, caller, route.api)
        for method in route.methods:
            for foreign in (False, True) if route.subject else (False,):
                place = world.other if foreign else world.own
                url = reverse(view_name, kwargs=worlds.kwargs_for(place, route.subject, kind, url_kwargs))
                body = worlds.body_for(view_name, method, place, kind)
                with transaction.atomic():
                    response = _call(client, method, url, body, route.api)
                    transaction.set_rollback(True)
                got = classify(response, api=route.api)
                want = expected(view_name, method, kind=kind, caller=caller, foreign=foreign)
                if got != want:
                    mismatches.append(SimpleNamespace(
                        who=f"{kind or '-'} by {caller}", method=method, url=url, want=str(want), got=str(got),
                        status=response.status_code,
                    ))
    assert not mismatches, f"{view_name}: " + "; ".join(
        f"{m.method} {m.url} as {m.who}: want {m.want}, got {m.got} ({m.status})" for m in mismatches
    )


ADMIN_PAGES = ["admin:index", "admin:audit_auditentry_changelist", "admin:intermodal_apikey_changelist",
               "admin:bookings_booking_changelist"]


@pytest.mark.django_db
@pytest.mark.parametrize("view_name", ADMIN_PAGES)
def test_the_admin_is_for_staff_only(view_name, world):
    url = reverse(view_name)
    answers = {}
    for kind in PartyKind.values:
        client = Client()
        client.force_login(world.own.users[kind])
        answers[kind] = client.get(url)
    anonymous = Client().get(url)
    staff = Client()
    staff_user = world.own.users[PartyKind.PLATFORM_ADMIN]
    staff_user.is_staff = staff_user.is_superuser = True
    staff_user.save(update_fields=["is_staff", "is_superuser"])
    staff.force_login(staff_user)

    assert staff.get(url).status_code == 200
    for response in [anonymous, *answers.values()]:
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
