"""A delivery's event loses its database foreign key before the events table is partitioned by month
(intermodal 0011): a partitioned table's keys include its partition column."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intermodal", "0010_event_references_without_constraints"),
        ("notifications", "0004_subscription_match_terms"),
    ]

    operations = [
        migrations.AlterField(
            model_name="delivery", name="event",
            field=models.ForeignKey(blank=True, db_constraint=False, null=True,
                                    on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="intermodal.event"),
        ),
    ]
