"""API rate limits per caller: per API key, per signed-in person, per address for anonymous readers.

Counts live in the shared cache (Redis when REDIS_URL is set), so every web process sees the same ones.
Rates come from settings (THROTTLE_RATE_KEY / _USER / _ANON in the environment).
Counted in sliding windows (guard/ratelimit.py).
"""

import logging
import math

from django.conf import settings

from guard.ratelimit import WindowRateThrottle
from intermodal.access import KeyPrincipal

logger = logging.getLogger(__name__)


class CallerRateThrottle(WindowRateThrottle):
    def __init__(self):
        # The scope, and so the rate, is known only once the request's caller is.
        pass

    def allow_request(self, request, view):
        self.scope = self._scope(request)
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - the cache is down or unreachable
            # The limit protects the service; without its counts it lets the request through rather than fail it.
            logger.warning("Rate limit not applied: the cache did not answer", exc_info=True)
            return True

    @staticmethod
    def _scope(request) -> str:
        user = request.user
        if isinstance(user, KeyPrincipal):
            return "key"
        if user is not None and user.is_authenticated:
            return "user"
        return "anon"

    def get_rate(self):
        # Read at each request (not once at import like DRF's default) so a changed setting applies at once.
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][self.scope]

    def get_cache_key(self, request, view):
        user = request.user
        if isinstance(user, KeyPrincipal):
            ident = user.api_key.prefix
        elif user is not None and user.is_authenticated:
            ident = user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AddressRateThrottle(WindowRateThrottle):
    """A limit per client address for a page outside the API (the public tracking page): DRF's reading of the
    address (NUM_PROXIES), the rate `DEFAULT_THROTTLE_RATES[scope]` read at each request."""

    def __init__(self, scope: str):
        self.scope = scope
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_rate(self):
        # No rate named for the scope: no limit (DRF's meaning of a rate of None).
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].get(self.scope)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def address_wait(request, scope: str) -> int | None:
    """None when the request's address is within the rate of `scope` (and counts it); else the seconds to wait."""
    throttle = AddressRateThrottle(scope)
    try:
        if throttle.allow_request(request, None):
            return None
    except Exception:  # noqa: BLE001 - the cache is down: let the request through, as the API does
        logger.warning("Rate limit not applied: the cache did not answer", exc_info=True)
        return None
    return max(1, math.ceil(throttle.wait() or 1))
