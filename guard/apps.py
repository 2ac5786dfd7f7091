from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GuardConfig(AppConfig):
    """What keeps a hostile world out, importing nothing of the platform: the text policy every input passes
    (text.py), secrets encrypted at rest (encryption.py), lock-out per account (lockout.py), rate limits counted
    in sliding windows (ratelimit.py), the 503 that answers a database outage (outage.py), gunicorn's own refusals
    and timeouts answered in the API's error shape (gunicorn_worker.py), and the standards' own OpenAPI files read
    as JSON Schema, to check what partners send against them (openapi_files.py)."""

    name = "guard"
    verbose_name = _("Input and abuse guards")
