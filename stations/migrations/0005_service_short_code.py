"""Services get a short code of at most 5 characters (DCSA Track & Trace 2.2.0's carrierServiceCode): existing
services one each, in the order they were created, by the rule new services follow (stations.models)."""

from django.core.validators import RegexValidator
from django.db import migrations, models

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _candidates(code: str):
    # A copy of stations.models.short_code_candidates as it was when this ran, so the migration never changes.
    stem = "".join(c for c in code.upper() if c.isascii() and c.isalnum())[:3].ljust(3, "X")
    for n in range(1, len(DIGITS) ** 2):
        yield stem + DIGITS[n // len(DIGITS)] + DIGITS[n % len(DIGITS)]
    for n in range(1, len(DIGITS) ** 4):
        yield "S" + "".join(DIGITS[n // len(DIGITS) ** p % len(DIGITS)] for p in (3, 2, 1, 0))


def give_short_codes(apps, schema_editor):
    Service = apps.get_model("stations", "Service")
    taken: set[str] = set()
    for service in Service.objects.order_by("pk").only("pk", "code"):
        short_code = next(c for c in _candidates(service.code) if c not in taken)
        taken.add(short_code)
        Service.objects.filter(pk=service.pk).update(short_code=short_code)


class Migration(migrations.Migration):

    dependencies = [
        ("stations", "0004_figures_rollups"),
    ]

    operations = [
        migrations.AddField(
            model_name="service",
            name="short_code",
            field=models.CharField(blank=True, default="", max_length=5, verbose_name="short code"),
            preserve_default=False,
        ),
        migrations.RunPython(give_short_codes, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="service",
            name="short_code",
            field=models.CharField(
                blank=True,
                help_text="Up to 5 capital letters or digits, unique; sent to DCSA Track & Trace partners as the "
                "carrierServiceCode. Left empty, one is made from the code.",
                max_length=5,
                unique=True,
                validators=[RegexValidator("^[A-Z0-9]{1,5}$", "Up to 5 capital letters or digits.")],
                verbose_name="short code",
            ),
        ),
        migrations.AddConstraint(
            model_name="service",
            constraint=models.CheckConstraint(
                condition=models.Q(("short_code__regex", "^[A-Z0-9]{1,5}$")), name="service_short_code_format"
            ),
        ),
    ]
