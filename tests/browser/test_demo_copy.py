"""The browser tests' demo (scenario.demo_network): seed_demo's rows for the first test of a process, copied back
from a snapshot for the others."""

from django.core.management import call_command
from django.db import connection

from intermodal.models import Organisation
from tests.browser import scenario


def _contents() -> dict[str, str]:
    """Every table's rows, ids included, as a digest."""
    digests = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.django_table_names(only_existing=True, include_views=False):
            name = connection.ops.quote_name(table)
            rows = "md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
            cursor.execute(f"SELECT count(*), {rows} FROM {name} AS t")  # noqa: S608 - the models' tables
            digests[table] = cursor.fetchone()
    return digests


def test_the_demo_copied_back_is_the_demo_seed_demo_wrote(transactional_db, monkeypatch):
    monkeypatch.setattr(scenario, "_snapshot_taken", False)  # seed it here, whatever ran before
    scenario.demo_network()
    seeded = _contents()
    assert Organisation.objects.filter(code="demo-shipper-a").exists()

    # What transactional_db does after each test: the tables emptied, the content types written again.
    call_command("flush", interactive=False, verbosity=0, reset_sequences=False)
    assert not Organisation.objects.exists()
    scenario.demo_network()

    assert scenario._snapshot_taken
    assert _contents() == seeded
