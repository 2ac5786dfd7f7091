"""The one error type business code raises; the API maps it to 409/400/403/404, pages show its message."""

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    """A refusal with a reason a person can read.

    status 409: the change does not follow from the current state; 400: the input is wrong (with
    field-level messages in `errors`); 403: this caller may not do this; 404: no such object for this caller.
    """

    status = 409
    default_message = _("This change is not allowed now.")

    def __init__(self, message=None, *, errors: dict | None = None, status: int | None = None, code: str = ""):
        self.message = message or self.default_message
        self.errors = errors or {}
        self.code = code
        if status is not None:
            self.status = status
        super().__init__(str(self.message))


class StateConflict(ApplicationError):
    status = 409


class InvalidInput(ApplicationError):
    status = 400
    default_message = _("The input is not valid.")


class NotAllowed(ApplicationError):
    """The caller may not do this, whatever the state: not its party, its organisation, its station (403)."""

    status = 403
    default_message = _("The request was refused.")


class NotFound(ApplicationError):
    status = 404
    default_message = _("Not found.")
