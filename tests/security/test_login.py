"""Login lock-out (django-axes) and the session and CSRF cookies: refusals are pages, never a 500."""

import pytest
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD = "pw-Strong-123"  # the factories' password


def login(client: Client, username: str, password: str, **extra):
    return client.post("/login/", {"username": username, "password": password}, **extra)


def test_six_failed_logins_lock_the_account_out_even_for_the_right_password():
    person = factories.user(username="clerk")
    client = Client()

    failures = [login(client, "clerk", f"wrong-{n}") for n in range(6)]
    locked = login(Client(), "clerk", PASSWORD)

    assert [r.status_code for r in failures[:5]] == [200] * 5  # the form again, with its error
    assert failures[5].status_code == 429
    assert locked.status_code == 429
    assert "Account locked" in locked.content.decode()
    assert "_auth_user_id" not in Client().session
    person.refresh_from_db()
    assert person.last_login is None


def test_five_failures_then_the_right_password_signs_in_and_resets_the_count():
    factories.user(username="clerk")
    client = Client()
    for n in range(5):
        login(client, "clerk", f"wrong-{n}")

    signed_in = login(client, "clerk", PASSWORD)
    again = [login(Client(), "clerk", "wrong") for _ in range(5)]

    assert signed_in.status_code == 302
    assert [r.status_code for r in again] == [200] * 5


def test_the_lock_holds_the_account_not_everyone_behind_its_address():
    # given: one person behind a station's gateway locks their own account
    factories.user(username="clerk")
    factories.user(username="other")
    for n in range(6):
        login(Client(), "clerk", f"wrong-{n}", REMOTE_ADDR="10.1.1.1")

    # when
    from_elsewhere = login(Client(), "clerk", PASSWORD, REMOTE_ADDR="10.2.2.2")
    other_from_elsewhere = login(Client(), "other", PASSWORD, REMOTE_ADDR="10.2.2.2")
    colleague_behind_the_same_gateway = login(Client(), "other", PASSWORD, REMOTE_ADDR="10.1.1.1")

    # then: the account is locked wherever it is tried from; the colleague at the same address signs in
    assert from_elsewhere.status_code == 429
    assert other_from_elsewhere.status_code == 302
    assert colleague_behind_the_same_gateway.status_code == 302


def test_an_address_is_locked_only_after_far_more_failures_across_accounts(settings):
    # given: a low address-wide limit, and failures spread over accounts so none reaches its own limit
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for name in ("a", "b", "c", "d", "victim"):
        factories.user(username=name)
    sprayed = [login(Client(), name, "Winter2026!", REMOTE_ADDR="10.9.9.9").status_code
               for _round in range(2) for name in ("a", "b", "c", "d")]

    # when: four more failures bring the address to twelve
    before_limit = login(Client(), "victim", PASSWORD, REMOTE_ADDR="10.9.9.9")
    more = [login(Client(), name, "Spring2026!", REMOTE_ADDR="10.9.9.9").status_code for name in ("a", "b", "c", "d")]
    at_limit = login(Client(), "victim", PASSWORD, REMOTE_ADDR="10.9.9.9")
    from_elsewhere = login(Client(), "victim", PASSWORD, REMOTE_ADDR="10.8.8.8")

    # then: no account was locked on its own; the address is, for everyone, and only that address
    assert sprayed == [200] * 8
    assert before_limit.status_code == 302
    assert more[:3] == [200] * 3 and more[3] == 429
    assert at_limit.status_code == 429
    assert from_elsewhere.status_code == 302


def test_the_admin_login_is_locked_out_too_without_a_server_error():
    factories.user(username="boss", is_staff=True, is_superuser=True)
    responses = [Client().post("/admin/login/", {"username": "boss", "password": "nope"}) for _ in range(7)]

    assert all(r.status_code < 500 for r in responses)
    assert responses[-1].status_code == 429


@pytest.mark.parametrize("payload", [
    {},
    {"username": "x" * 10_000, "password": "y"},
    {"username": "管理员", "password": "密码"},
    {"username": "' OR 1=1 --", "password": "' OR 1=1 --"},
    {"username": "<script>alert(1)</script>", "password": "p"},
    {"username": "a\x00b", "password": "p"},
])
def test_odd_login_input_is_a_form_error_never_a_500(payload):
    response = Client().post("/login/", payload)

    assert response.status_code in (200, 400)
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_login_needs_the_csrf_token():
    factories.user(username="clerk")
    client = Client(enforce_csrf_checks=True)

    response = login(client, "clerk", PASSWORD)

    assert response.status_code == 403
