"""Subscriptions without a filter of their own of enterprises and station operators are found by their
organisation ("org:<id>"), no longer read for every batch ("any"): their match terms made again."""

from django.db import migrations


def refill_match_terms(apps, schema_editor):
    from notifications.models import match_terms

    Subscription = apps.get_model("notifications", "Subscription")
    for subscription in Subscription.objects.select_related("organisation").iterator():
        kinds, keys = match_terms(subscription)
        if (kinds, keys) != (subscription.match_kinds, subscription.match_keys):
            Subscription.objects.filter(pk=subscription.pk).update(match_kinds=kinds, match_keys=keys)


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0005_delivery_event_without_constraint"),
    ]

    operations = [
        migrations.RunPython(refill_match_terms, migrations.RunPython.noop),
    ]
