"""The clearance times become histograms and the rollups gain month rows, as bookings 0007 says (which also
marks the rollups empty until the next refresh)."""

from django.db import migrations, models

SPAN = models.CharField(choices=[("day", "day"), ("month", "month")], default="day", max_length=5)


class Migration(migrations.Migration):

    dependencies = [
        ("bookings", "0007_figures_histograms"),
        ("customs", "0003_declaration_covers_the_booking"),
    ]

    operations = [
        migrations.RunSQL("DELETE FROM customs_clearancetime; DELETE FROM customs_cargoday",
                          reverse_sql=migrations.RunSQL.noop),
        migrations.AddField(model_name="clearancetime", name="span", field=SPAN),
        migrations.AddField(model_name="cargoday", name="span", field=SPAN),
        migrations.RemoveField(model_name="clearancetime", name="clearance_seconds"),
        migrations.RemoveField(model_name="clearancetime", name="inspected"),
        migrations.AddField(model_name="clearancetime", name="bucket", field=models.SmallIntegerField(default=0),
                            preserve_default=False),
        migrations.AddField(model_name="clearancetime", name="declarations",
                            field=models.PositiveIntegerField(default=0)),
        migrations.AddField(model_name="clearancetime", name="inspected", field=models.PositiveIntegerField(default=0)),
        migrations.AddField(model_name="clearancetime", name="total_seconds", field=models.FloatField(default=0)),
        migrations.AddField(model_name="clearancetime", name="shortest_seconds", field=models.FloatField(default=0),
                            preserve_default=False),
        migrations.AddField(model_name="clearancetime", name="longest_seconds", field=models.FloatField(default=0),
                            preserve_default=False),
    ]
