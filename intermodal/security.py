"""Response headers every answer carries, the request-size limit applied before a body is parsed, and the text
policy on URL paths."""

from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import bad_request

from guard.text import forbidden_characters
from intermodal.api import error_body


class SecurityHeadersMiddleware:
    """Content Security Policy and Permissions Policy (SecurityMiddleware sets HSTS, nosniff, referrer, COOP)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if request.path.startswith("/api/"):
            # API answers are data for one caller: never kept by a shared cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response


class RequestSizeLimitMiddleware:
    """Refuse an API body over DATA_UPLOAD_MAX_MEMORY_SIZE with 413 before anything reads it.

    Django enforces the limit only when a form is parsed (request.POST, a 400 on pages); DRF streams JSON
    from the request without that check, so the API needs it here.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                body = error_body(
                    413,
                    _("The request body is too large (at most %(n)s bytes).") % {"n": limit},
                    code="too_large",
                )
                return JsonResponse(body, status=413)
        return self.get_response(request)


class PathPolicyMiddleware:
    """A URL path holding a NUL or a control character (`/api/v1/track/%00/`) names nothing: a 404 (the API's
    error shape on /api/, the page otherwise) before any view looks it up. PostgreSQL's text cannot hold a NUL, so
    a lookup with one was a 500. A page's query string holding a NUL is a 400 page for the same reason (a view
    may read a parameter by hand, `?station=`); the pages' forms refuse the other control characters on their
    fields, and the API checks every query value itself (intermodal.query_parameters)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if forbidden_characters(request.path):
            raise Http404
        if not request.path.startswith("/api/") and "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            return bad_request(request, SuspiciousOperation("NUL in the query string"))
        return self.get_response(request)


def login_attempt_username(request, credentials) -> str | None:
    """The username django-axes counts failures against, cut to the length a username can have.

    A login form posted with a 10,000-character username must be a failed login like any other, not a database
    error when axes stores the attempt.
    """
    source = credentials or getattr(request, "data", request.POST)
    username = source.get("username")
    return None if username is None else str(username)[:150]
