"""Triggers: status columns and customs decisions write audit entries; audit entries refuse UPDATE and DELETE."""

from django.db import migrations


def install(apps, schema_editor):
    from audit.triggers import install as install_triggers

    install_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_entry"),
        ("intermodal", "0004_transport_event_index"),
        ("stations", "0002_validators"),
        ("bookings", "0002_journey"),
        ("customs", "0001_initial"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
