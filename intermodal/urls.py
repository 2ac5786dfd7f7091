"""The root URLconf: every app's pages and API are included by module path, so the shared package imports no app."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path
from django.utils.translation import gettext as _
from django.views.defaults import bad_request, page_not_found, permission_denied, server_error
from drf_spectacular.views import SpectacularSwaggerSplitView

from guard.outage import current_outage, outage_detail, outage_page, retry_after
from intermodal import api_views, dcsa, views
from intermodal.api import json_error_view
from intermodal.schema_view import SchemaView

# The API first, under one prefix: a request to it is not tried against every page's pattern, and a page's
# is not tried against the API's. The tracking look-up, the most-called request, is tried first.
api_patterns = [
    path("v1/", include("tracking.api_urls")),
    path("v1/me/", api_views.MeView.as_view(), name="api-me"),
    path("v1/", include(api_views.router.urls)),
    path("v1/", include("stations.api_urls")),
    path("v1/", include("inbound.api_urls")),  # before bookings': bookings/import/ is not a booking's reference
    path("v1/", include("bookings.api_urls")),
    path("v1/", include("documents.api_urls")),
    path("v1/", include("journey.api_urls")),
    path("v1/", include("customs.api_urls")),
    path("v1/", include("figures.api_urls")),
    path("v1/", include("notifications.api_urls")),
    path("dcsa/tnt/v2/", include("tracking.dcsa_urls")),
    path("dcsa/tnt/v2/", include("notifications.dcsa_urls")),
    path("dcsa/cs/v1/", include("schedules.dcsa_urls")),
    path("dcsa/bkg/v2/", include("bkg.dcsa_urls")),
    path("edi/", include("edi.urls")),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: the page needs no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("api/", include(api_patterns)),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("", include("worklists.urls")),
    path("", include("tracking.urls")),  # before bookings': /bookings/export/events.csv is tracking's
    path("bookings/", include("bookings.urls")),
    path("", include("documents.urls")),
    path("operations/", include("operations.urls")),
    path("declarations/", include("customs.urls")),
    path("figures/", include("figures.urls")),
    path("", include("notifications.urls")),
    path("admin/", admin.site.urls),
]


# Every error Django itself answers on the API is in the API's error shape: a form with more fields than
# DATA_UPLOAD_MAX_NUMBER_FIELDS or a body over DATA_UPLOAD_MAX_MEMORY_SIZE read by the CSRF check (400), a
# refusal outside DRF (403), no such route (404), a server error (500).
def handler400(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error_view(400, _("The request could not be read: too many fields, or too large."))(request)
    return bad_request(request, exception)


def handler403(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error_view(403, _("The request was refused."))(request)
    return permission_denied(request, exception)


def handler404(request, exception=None):
    if request.path.startswith(dcsa.PATHS):
        return JsonResponse(dcsa.plain_error(request, 404, str(_("Not found."))), status=404,
                            headers={"API-Version": dcsa.version_of(request.path)})
    if request.path.startswith("/api/"):
        return json_error_view(404, _("Not found."))(request)
    return page_not_found(request, exception)


def handler500(request):
    # A database outage met outside an API view (a page, or the session read by a middleware): 503, not 500.
    if current_outage():
        if request.path.startswith("/api/"):
            return json_error_view(503, outage_detail(), headers={"Retry-After": retry_after()})(request)
        return outage_page(request)
    if request.path.startswith("/api/"):
        return json_error_view(500, _("Server error."))(request)
    return server_error(request)
