"""The egress guard (notifications/egress.py): where webhooks and DCSA callbacks may be sent.

Every address range a subscriber could aim the workers at inside the platform's network is refused when the URL is
subscribed (API, DCSA, the page) and again at send time on the address the name resolves to then; a resolver that
answers a public address at subscription and an internal one at the send (DNS rebinding) gets nothing sent. The
receivers are real local HTTP servers; only name resolution is replaced (a test cannot own a DNS zone).
"""

import socket
import threading
from types import SimpleNamespace

import pytest

from notifications import delivery as sender
from notifications import egress, posting
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, Subscription
from notifications.services import subscription_test
from tests.notifications.conftest import subscribe
from tests.notifications.test_api import DCSA, SUBSCRIPTIONS, key_client

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"


@pytest.fixture(autouse=True)
def no_allowed_networks(settings):
    """The suite allows 127.0.0.0/8 for its local receivers; these tests start from the production default."""
    settings.WEBHOOK_ALLOWED_NETWORKS = []


class Resolver:
    """Name resolution as a test scripts it: each name answers its list of answers in turn (the last one again
    once they run out); address literals resolve to themselves; any other name does not resolve."""

    def __init__(self):
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        try:
            socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
            return [host]
        except OSError:
            pass
        script = self.answers.get(host)
        if not script:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return script.pop(0) if len(script) > 1 else script[0]


@pytest.fixture
def resolver(monkeypatch):
    fake = Resolver()
    monkeypatch.setattr(egress, "resolve", fake)
    return fake


BLOCKED = [
    ("http://127.0.0.1:5432/", "loopback"),
    ("http://127.8.9.10/admin/", "loopback"),
    ("http://[::1]:8000/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://10.0.0.5/hook", "private"),
    ("http://172.16.3.4/hook", "private"),
    ("http://192.168.1.1/hook", "private"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://100.100.100.200/latest/meta-data/", "shared"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://0.0.0.0:8000/", "unspecified"),
    ("http://metadata.internal.example/computeMetadata/v1/", "link-local"),
    ("https://intranet.example/hook", "private"),
]


@pytest.mark.parametrize(("url", "kind"), BLOCKED)
def test_the_api_refuses_every_internal_range_with_a_400_naming_the_url(api_client, shipper, resolver, url, kind):
    resolver.answers["metadata.internal.example"] = [["169.254.169.254"]]
    resolver.answers["intranet.example"] = [[PUBLIC, "10.1.2.3"]]  # one internal answer among public ones is enough

    response = key_client(api_client, shipper.org).post(
        SUBSCRIPTIONS, {"url": url, "event_kinds": ["*"]}, format="json")

    assert response.status_code == 400, response.content
    [message] = response.json()["errors"]["url"]
    assert url in message and kind in message
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://localhost:5432/",
                                 "http://127.0.0.1:8000/admin/"])
def test_dcsa_refuses_an_internal_callback_url_in_its_error_object(api_client, shipper, url):
    secret = "c2VjcmV0LW9mLWF0LWxlYXN0LTE2LWJ5dGVz"

    response = key_client(api_client, shipper.org).post(DCSA, {"callbackUrl": url, "secret": secret}, format="json")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["message"].startswith("callbackUrl: ") and url in error["message"]
    assert not Subscription.objects.exists()


def test_changing_a_subscription_to_an_internal_url_is_refused_too(api_client, shipper, resolver):
    resolver.answers["erp.partner.example"] = [[PUBLIC]]
    created = subscribe(shipper.org, "https://erp.partner.example/hook")
    client = key_client(api_client, shipper.org)

    changed = client.patch(f"{SUBSCRIPTIONS}{created.subscription.subscription_id}/",
                           {"url": "http://169.254.169.254/latest/"}, format="json")

    assert changed.status_code == 400 and "169.254.169.254" in changed.json()["errors"]["url"][0]
    assert Subscription.objects.get().url == "https://erp.partner.example/hook"


def test_the_page_refuses_an_internal_url_as_a_form_error(client, shipper):
    client.force_login(shipper.user)

    response = client.post("/webhooks/new/", {"name": "x", "url": "http://127.0.0.1:5432/", "event_kinds": ["*"],
                                              "is_active": "on"})

    assert response.status_code == 200
    assert "http://127.0.0.1:5432/" in response.context["form"].errors["url"][0]
    assert not Subscription.objects.exists()


def test_a_named_network_is_allowed_and_only_that_one(api_client, shipper, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    client = key_client(api_client, shipper.org)

    inside = client.post(SUBSCRIPTIONS, {"url": "http://10.20.1.2/hook", "event_kinds": ["*"]}, format="json")
    outside = client.post(SUBSCRIPTIONS, {"url": "http://10.21.0.1/hook", "event_kinds": ["*"]}, format="json")

    assert inside.status_code == 201
    assert outside.status_code == 400


def test_production_takes_https_only(api_client, shipper, settings, resolver):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    resolver.answers["erp.partner.example"] = [[PUBLIC]]
    client = key_client(api_client, shipper.org)

    plain = client.post(SUBSCRIPTIONS, {"url": "http://erp.partner.example/hook", "event_kinds": ["*"]},
                        format="json")
    secure = client.post(SUBSCRIPTIONS, {"url": "https://erp.partner.example/hook", "event_kinds": ["*"]},
                         format="json")

    assert plain.status_code == 400 and "https only" in plain.json()["errors"]["url"][0]
    assert secure.status_code == 201


def test_a_name_that_does_not_resolve_yet_is_accepted_and_checked_at_each_send(shipper, resolver, receiver):
    created = subscribe(shipper.org, "http://not-yet.partner.example/hook")

    delivery = subscription_test(actor=shipper.actor, subscription=created.subscription)
    sender.deliveries_send([delivery.pk])

    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.status_code is None and attempt.error == egress.UNRESOLVED


# --- At send time -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("internal", ["127.0.0.1", "169.254.169.254", "::1", "10.0.0.8"])
def test_a_rebinding_name_gets_nothing_sent_to_its_internal_address(shipper, resolver, receiver, internal):
    # given: the name is public when subscribed, then answers an internal address (here the local receiver's)
    port = receiver.server.server_address[1]
    resolver.answers["rebind.partner.example"] = [[PUBLIC], [internal]]
    created = subscribe(shipper.org, f"http://rebind.partner.example:{port}/hook")

    # when: a test message and a resend are sent
    delivery = subscription_test(actor=shipper.actor, subscription=created.subscription)
    first = sender.deliveries_send([delivery.pk])
    sender.delivery_resend(Delivery.objects.get(pk=delivery.pk))
    second = sender.deliveries_send([delivery.pk])

    # then: nothing reached the receiver; the log says why without naming the address
    assert (first, second) == ([DeliveryStatus.FAILED], [DeliveryStatus.FAILED])
    assert receiver.requests == []
    errors = list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("error", flat=True))
    assert errors == [egress.NOT_PUBLIC, egress.NOT_PUBLIC]
    assert not any(internal in error for error in errors)


def test_a_send_connects_to_the_address_it_checked_and_keeps_the_host(shipper, resolver, receiver, settings):
    # given: a deployment that allows the receiver's network, and a name that resolves to it
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    port = receiver.server.server_address[1]
    resolver.answers["erp.partner.example"] = [["127.0.0.1"]]
    created = subscribe(shipper.org, f"http://erp.partner.example:{port}/hook?tenant=7")
    delivery = subscription_test(actor=shipper.actor, subscription=created.subscription)
    resolver.lookups.clear()

    # when
    assert sender.deliveries_send([delivery.pk]) == [DeliveryStatus.DELIVERED]

    # then: one lookup (the checked one) and the post carries the URL's own host, path and query
    assert resolver.lookups == ["erp.partner.example"]
    [request] = receiver.requests
    assert request.headers["host"] == f"erp.partner.example:{port}"
    assert request.path == "/hook?tenant=7"


def test_a_redirect_is_not_followed(shipper, receiver, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    receiver.script = [307]
    created = subscribe(shipper.org, receiver.url)

    delivery = subscription_test(actor=shipper.actor, subscription=created.subscription)
    sender.deliveries_send([delivery.pk])

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == (DeliveryStatus.FAILED, 307, "HTTP 307")


@pytest.fixture
def closing_server():
    """A TCP server on 127.0.0.1 that accepts each connection and closes it at once (RemoteDisconnected)."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _address = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    server.close()
    thread.join(5)


def _closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def test_a_closed_port_and_a_dropped_connection_read_the_same_in_the_log(shipper, settings, closing_server):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    closed = subscribe(shipper.org, f"http://127.0.0.1:{_closed_port()}/hook").subscription
    dropping = subscribe(shipper.org, f"http://127.0.0.1:{closing_server}/hook").subscription

    for subscription in (closed, dropping):
        delivery = subscription_test(actor=shipper.actor, subscription=subscription)
        sender.deliveries_send([delivery.pk])

    errors = set(DeliveryAttempt.objects.values_list("error", flat=True))
    assert errors == {"The receiver could not be reached, or closed the connection before answering."}
    assert all("rrno" not in error and "refused" not in error.lower() for error in errors)


# --- https: the TLS server name and certificate are the URL's host, though the post goes to an address ---------


@pytest.fixture
def tls_receiver(tmp_path, monkeypatch):
    """A real HTTPS receiver on 127.0.0.1 whose certificate names hooks.partner.example (and no address), and the
    sender trusting that certificate alone."""
    import datetime
    import ssl
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.partner.example")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.partner.example")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append({"host": self.headers["Host"], "sni": getattr(self.connection, "sni", None)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)

    def remember_sni(connection, server_name, _context):
        connection.sni = server_name

    context.sni_callback = remember_sni
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(posting, "tls_context", lambda: ssl.create_default_context(cafile=str(cert_file)))
    yield SimpleNamespace(port=server.server_address[1], seen=seen)
    server.shutdown()
    server.server_close()


def test_https_checks_the_certificate_against_the_urls_host(shipper, resolver, settings, tls_receiver):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    resolver.answers["hooks.partner.example"] = [["127.0.0.1"]]
    resolver.answers["other.partner.example"] = [["127.0.0.1"]]
    good = subscribe(shipper.org, f"https://hooks.partner.example:{tls_receiver.port}/hook").subscription
    wrong_name = subscribe(shipper.org, f"https://other.partner.example:{tls_receiver.port}/hook").subscription

    delivered = sender.deliveries_send([subscription_test(actor=shipper.actor, subscription=good).pk])
    refused = subscription_test(actor=shipper.actor, subscription=wrong_name)
    sender.deliveries_send([refused.pk])

    assert delivered == [DeliveryStatus.DELIVERED]
    assert tls_receiver.seen == [{"host": f"hooks.partner.example:{tls_receiver.port}",
                                  "sni": "hooks.partner.example"}]
    refused.refresh_from_db()
    assert refused.last_error == "The TLS handshake with the receiver failed (its certificate or protocol)."


def test_the_admin_refuses_an_internal_url_too(client, shipper):
    from tests import factories

    created = subscribe(shipper.org, "https://erp.example/hook").subscription
    client.force_login(factories.user(shipper.org, username="root", is_staff=True, is_superuser=True))

    response = client.post(f"/admin/notifications/subscription/{created.pk}/change/", {
        "organisation": shipper.org.pk, "name": "", "url": "http://169.254.169.254/latest/meta-data/",
        "format": "standard", "event_kinds": '["*"]', "station_code": "", "booking_reference": "",
        "equipment_reference": "", "dcsa_filters": "{}", "is_active": "on", "disabled_reason": ""})

    assert response.status_code == 200
    assert "169.254.169.254" in str(response.context["adminform"].form.errors["url"])
    assert Subscription.objects.get().url == "https://erp.example/hook"


def test_a_dcsa_callback_is_guarded_at_send_time_as_well(shipper, resolver, receiver):
    from notifications.models import SubscriptionFormat

    port = receiver.server.server_address[1]
    resolver.answers["dcsa.partner.example"] = [[PUBLIC], ["169.254.169.254"]]
    created = subscribe(shipper.org, f"http://dcsa.partner.example:{port}/callback", format=SubscriptionFormat.DCSA,
                        secret="c2VjcmV0LW9mLWF0LWxlYXN0LTE2LWJ5dGVz")

    delivery = subscription_test(actor=shipper.actor, subscription=created.subscription)

    assert sender.deliveries_send([delivery.pk]) == [DeliveryStatus.FAILED]
    assert receiver.requests == []
    assert Delivery.objects.get(pk=delivery.pk).last_error == egress.NOT_PUBLIC
