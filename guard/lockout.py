"""Login lock-out per account, with a much higher limit per address (django-axes' database handler, extended).

axes counts failures per lock-out parameter (account and address) and compares the larger count with one limit.
Locking addresses at the account's limit (six) let one person's typos lock out everyone behind the same address,
such as a station's gateway, for the cool-off. This handler compares each count with its own limit: the
account's with AXES_FAILURE_LIMIT, the address's (failures across accounts) with LOGIN_ADDRESS_FAILURE_LIMIT.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


def _failures(request, **lookup) -> int:
    attempts = AccessAttempt.objects.filter(**lookup)
    if settings.AXES_COOLOFF_TIME is not None:
        attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class AccountLockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The account's failures; or the account's limit itself once the address is over the address limit, so
        that axes (which compares this number with AXES_FAILURE_LIMIT) refuses the whole address."""
        username = get_client_username(request, credentials)
        account = _failures(request, username=username) if username is not None else 0
        address = getattr(request, "axes_ip_address", None)
        if address and _failures(request, ip_address=address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(account, get_failure_limit(request, credentials))
        return account

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """A success clears the account's failures only: the address's failures against other accounts still
        count (axes would clear the whole address's, so one good login would wipe a password spray's trace)."""
        username = get_client_username(request, credentials)
        if username is None:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
