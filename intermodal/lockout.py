"""Login lock-out per account, with a much higher limit per address (django-axes' database handler, extended).

axes counts failures per lock-out parameter and compares the largest with one limit. Locking addresses at the
account's limit (six) let one person's typos lock out everyone behind the same address, such as a station's
gateway, for the cool-off. So axes counts per account (AXES_LOCKOUT_PARAMETERS = ["username"]) and this handler
adds the address's failures across accounts, which lock the address only at LOGIN_ADDRESS_FAILURE_LIMIT.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


class AccountLockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        """The account's failures; or the account's limit itself once the address is over the address limit, so
        that axes (which compares this number with AXES_FAILURE_LIMIT) refuses the whole address."""
        account = super().get_failures(request, credentials)
        address = getattr(request, "axes_ip_address", None)
        if not address:
            return account
        attempts = AccessAttempt.objects.filter(ip_address=address)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        from_address = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
        if from_address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(account, get_failure_limit(request, credentials))
        return account
