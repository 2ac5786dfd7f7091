"""Pages every party shares: home, log in and out, the language switch, health, the admin."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.urls import reverse

from intermodal.models import PartyKind, User
from tests import factories

pytestmark = pytest.mark.django_db


def test_anonymous_home_shows_the_network(client, network):
    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Yiwu West" in html
    assert "Jinhua East" in html
    assert network.vessel_call.vessel_name in html
    assert reverse("login") in html


@pytest.mark.parametrize("kind", PartyKind.values)
def test_every_party_kind_has_a_home_page(client, network, kind):
    person = factories.user(factories.organisation(kind))
    client.force_login(person)

    response = client.get("/")

    assert response.status_code == 200
    assert response.context["party_kind"] == kind
    assert person.organisation.name in response.content.decode()


def test_station_staff_see_their_own_stations_first(client, network):
    client.force_login(factories.user(network.operator))

    response = client.get("/")

    stations = response.context["stations"]
    assert stations[0].code == "YIWU-W"
    assert stations[0].is_focus
    assert not stations[1].is_focus


def test_the_port_sees_vessel_calls_at_its_own_terminals(client, network):
    other_port = factories.organisation(PartyKind.PORT, code="other-port")
    factories.terminal("DAXIE", operator=other_port, unlocode="CNDAX", name="Daxie", name_zh="大榭")
    client.force_login(factories.user(other_port))

    response = client.get("/")

    assert response.context["vessel_calls"] == []


def test_home_shows_next_departures_with_free_teu(client, network):
    response = client.get("/")

    yiwu = next(s for s in response.context["stations"] if s.code == "YIWU-W")
    departures = yiwu.services.all()[0].next_departures
    assert 1 <= len(departures) <= 3
    assert departures[0].teu_free == 100


def test_home_uses_a_fixed_number_of_queries(client, network, django_assert_max_num_queries):
    for n in range(5):
        extra = factories.station(f"EXTRA-{n}")
        factories.service(extra, network.beilun, network.railway)
        factories.vessel_call(network.beilun, etd=network.vessel_call.etd + timedelta(days=n + 1))
    client.force_login(factories.user(network.operator))

    with django_assert_max_num_queries(15):  # the network, the work queue (exports and imports) and the map
        response = client.get("/")

    assert response.status_code == 200


def test_login_and_logout(client, network):
    factories.user(network.operator, username="gate")

    bad = client.post(reverse("login"), {"username": "gate", "password": "wrong"})
    good = client.post(reverse("login"), {"username": "gate", "password": "pw-Strong-123"})
    home = client.get("/")
    out = client.post(reverse("logout"))

    assert bad.status_code == 200
    assert bad.context["form"].errors
    assert good.status_code == 302
    assert good["Location"] == reverse("home")
    assert home.context["user"].username == "gate"
    assert out.status_code == 302
    assert client.get("/").context["user"].is_anonymous


def test_the_language_choice_is_kept_on_the_account(client, network):
    person = factories.user(network.operator)
    client.force_login(person)

    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    person.refresh_from_db()
    assert response.status_code == 302
    assert person.language == "zh-hans"
    assert '<html lang="zh-hans"' in page.content.decode()
    assert "义乌西" in page.content.decode()


def test_anonymous_language_choice_uses_a_cookie(client, network):
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})

    page = client.get("/")

    assert '<html lang="zh-hans"' in page.content.decode()


def test_language_switch_does_not_redirect_off_site(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": "https://evil.example/"})

    assert response["Location"] == "/"


def test_health(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_admin_lists_every_model(client, network):
    staff = User.objects.create_superuser("root", "root@example.com", "pw-Strong-123")
    client.force_login(staff)

    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    ("kind", "link"),
    [
        ("station_operator", "/operations/station/"),
        ("railway", "/operations/railway/"),
        ("port", "/operations/port/"),
        ("enterprise", "/bookings/new/"),
    ],
)
def test_navigation_leads_each_party_to_its_work(client, network, kind, link):
    client.force_login(factories.user(factories.organisation(kind)))

    page = client.get("/").content.decode()

    assert f'href="{link}"' in page
    assert 'href="/operations/track/"' in page


def test_anonymous_navigation_offers_public_tracking(client, network):
    page = client.get("/").content.decode()

    assert 'href="/track/"' in page
    assert 'href="/operations/station/"' not in page
