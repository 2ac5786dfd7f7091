"""While the database cannot be reached: a 503 with Retry-After, not a 500.

A request that meets a database it cannot reach (refused, dropped mid-request, the commit lost) is answered 503:
the API with `unavailable` in its error shape (intermodal.api), pages with a plain 503 page, both with
Retry-After. Whether a change sent with an Idempotency-Key was made, its retry tells (intermodal.idempotency).
Nothing here touches the database: the page is rendered without the context processors, which read the
signed-in person.
"""

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.utils.translation import gettext as _

# Connection refused or lost, the server shutting down or out of resources, a transaction it ended (deadlock,
# serialization, lock or statement timeout): "try again soon". Errors in what a request asked for (DataError,
# IntegrityError, ProgrammingError, and OperationalError's "program limit exceeded", SQLSTATE class 54, e.g. an
# index row too large) are not outages.
OUTAGE_ERRORS = (OperationalError, InterfaceError)
OUTAGE_SQLSTATE_CLASSES = {"08", "40", "53", "55", "57", "58"}


def is_outage(exc: BaseException | None) -> bool:
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    code = getattr(exc.__cause__, "pgcode", None)  # None: no answer from a server at all
    return code is None or code[:2] in OUTAGE_SQLSTATE_CLASSES


def retry_after() -> str:
    return str(settings.OUTAGE_RETRY_AFTER_SECONDS)


def outage_detail() -> str:
    return _("The database is briefly unreachable: try again in a few seconds. A retry with the same "
             "Idempotency-Key never makes a change twice.")


def outage_page(request) -> HttpResponse:
    response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = retry_after()
    return response


def current_outage() -> bool:
    """Whether the exception being handled (Django's handler500 is called inside its `except`) is an outage."""
    return is_outage(sys.exc_info()[1])
