"""Subscription secrets at rest: encrypted with a key from the environment, rotated without downtime, the rows of
before encrypted by the migration, and never written to a log."""

import importlib
import logging
from io import StringIO
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from guard import encryption
from notifications.models import Subscription
from tests.notifications.conftest import subscribe
from tests.notifications.test_api import DCSA, SUBSCRIPTIONS, key_client

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def stored(subscription: Subscription) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM notifications_subscription WHERE id = %s", [subscription.pk])
        return cursor.fetchone()[0]


def test_the_secret_is_stored_encrypted_and_read_back_to_sign(shipper, settings):
    settings.SECRETS_ENCRYPTION_KEYS = [OLD]
    created = subscribe(shipper.org, "https://erp.example/hook")

    column = stored(created.subscription)

    assert created.secret.startswith("whsec_")
    assert created.secret not in column and created.secret[6:] not in column
    assert Fernet(OLD.encode()).decrypt(column.encode()).decode() == created.secret
    assert Subscription.objects.get().secret == created.secret


def test_keys_rotate_without_losing_a_secret(shipper, settings):
    # given: secrets written under the old key
    settings.SECRETS_ENCRYPTION_KEYS = [OLD]
    created = subscribe(shipper.org, "https://erp.example/hook")

    # when: the new key goes first, the secrets are re-encrypted, and the old key is dropped
    settings.SECRETS_ENCRYPTION_KEYS = [NEW, OLD]
    readable_during = Subscription.objects.get().secret
    out = StringIO()
    call_command("secrets_rotate", stdout=out)
    settings.SECRETS_ENCRYPTION_KEYS = [NEW]

    # then
    assert readable_during == created.secret
    assert Fernet(NEW.encode()).decrypt(stored(created.subscription).encode()).decode() == created.secret
    assert Subscription.objects.get().secret == created.secret
    assert "1 subscription secrets re-encrypted" in out.getvalue() and created.secret not in out.getvalue()


def test_without_keys_of_its_own_a_key_derived_from_secret_key_encrypts(shipper, settings):
    settings.SECRETS_ENCRYPTION_KEYS = []
    created = subscribe(shipper.org, "https://erp.example/hook")

    derived = Fernet(encryption.derived_key(settings.SECRET_KEY))

    assert derived.decrypt(stored(created.subscription).encode()).decode() == created.secret
    # a deployment that then names its own key still reads what was written before
    settings.SECRETS_ENCRYPTION_KEYS = [NEW]
    assert Subscription.objects.get().secret == created.secret


def test_a_dropped_key_is_a_clear_configuration_error_and_a_bad_key_too(shipper, settings):
    settings.SECRETS_ENCRYPTION_KEYS = [OLD]
    subscribe(shipper.org, "https://erp.example/hook")

    settings.SECRETS_ENCRYPTION_KEYS = [NEW]
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    with pytest.raises(ImproperlyConfigured, match="secrets_rotate"):
        Subscription.objects.get()
    settings.SECRETS_ENCRYPTION_KEYS = ["not a fernet key"]
    with pytest.raises(ImproperlyConfigured, match="SECRETS_ENCRYPTION_KEYS"):
        encryption.encrypt("x")


def test_the_migration_encrypts_the_secrets_stored_in_clear(shipper, settings):
    # given: two rows as they were before the migration (one of them already encrypted by a half-run)
    settings.SECRETS_ENCRYPTION_KEYS = [OLD]
    plain = subscribe(shipper.org, "https://a.example/hook").subscription
    done = subscribe(shipper.org, "https://b.example/hook")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE notifications_subscription SET secret = 'whsec_in-clear' WHERE id = %s", [plain.pk])
    migration = importlib.import_module("notifications.migrations.0003_subscription_secret_encrypted")
    editor = SimpleNamespace(connection=connection)

    # when
    migration.encrypt_secrets(None, editor)

    # then: both encrypted once, readable; and the reverse puts them back in clear
    assert "in-clear" not in stored(plain)
    assert Subscription.objects.get(pk=plain.pk).secret == "whsec_in-clear"
    assert Subscription.objects.get(pk=done.subscription.pk).secret == done.secret
    migration.decrypt_secrets(None, editor)
    assert stored(plain) == "whsec_in-clear" and stored(done.subscription) == done.secret


def test_no_secret_reaches_a_log(api_client, shipper, caplog, receiver):
    caplog.set_level(logging.DEBUG)
    client = key_client(api_client, shipper.org)
    seen: list[str] = []

    created = client.post(SUBSCRIPTIONS, {"url": receiver.url, "event_kinds": ["*"]}, format="json").json()
    seen.append(created["secret"])
    path = f"{SUBSCRIPTIONS}{created['subscription_id']}/"
    seen.append(client.post(f"{path}rotate-secret/").json()["secret"])
    client.post(f"{path}test/")
    dcsa_secret = "c2VjcmV0LW9mLWF0LWxlYXN0LTE2LWJ5dGVz"
    client.post(DCSA, {"callbackUrl": receiver.url, "secret": dcsa_secret}, format="json")
    seen.append(dcsa_secret)
    listed = client.get(SUBSCRIPTIONS).content.decode()

    logged = "\n".join(record.getMessage() + repr(record.args) for record in caplog.records)
    for secret in seen:
        assert secret not in logged
        assert secret not in listed
