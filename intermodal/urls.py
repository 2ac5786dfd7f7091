from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from bookings import api as bookings_api
from bookings import bill_of_lading_views, events_api, figures_views
from bookings import dcsa as bookings_dcsa
from bookings.operations import tracking_public
from customs import api as customs_api
from intermodal import api_views, views
from intermodal.api import json_error_view
from intermodal.notifications import api as notifications_api
from intermodal.notifications import dcsa as notifications_dcsa
from stations import api as stations_api

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("stations", stations_api.StationViewSet, basename="station")
router.register("services", stations_api.ServiceViewSet, basename="service")
router.register("departures", stations_api.DepartureViewSet, basename="departure")
router.register("vessel-calls", stations_api.VesselCallViewSet, basename="vessel-call")
router.register("api-keys", api_views.ApiKeyViewSet, basename="api-key")
router.register("bookings", bookings_api.BookingViewSet, basename="booking")
router.register("declarations", customs_api.DeclarationViewSet, basename="declaration")
router.register("subscriptions", notifications_api.SubscriptionViewSet, basename="subscription")
router.register("webhook-deliveries", notifications_api.DeliveryViewSet, basename="webhook-delivery")
router.register("notifications", notifications_api.NotificationViewSet, basename="notification")

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("healthz", views.healthz, name="healthz"),
    path("bookings/", include("bookings.urls")),
    path("operations/", include("bookings.operations_urls")),
    path("declarations/", include("customs.urls")),
    path("figures/", include("bookings.figures_urls")),
    path("track/", tracking_public, name="track-public"),
    path("bl/<str:token>/", bill_of_lading_views.verify_view, name="bill-of-lading-verify"),
    path("", include("intermodal.notifications.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/me/", api_views.MeView.as_view(), name="api-me"),
    path("api/v1/connections/", bookings_api.ConnectionView.as_view(), name="api-connections"),
    path("api/v1/quotes/", bookings_api.QuoteView.as_view(), name="api-quotes"),
    path("api/v1/events/", events_api.EventsView.as_view(), name="api-events"),
    path("api/v1/track/<str:key>/", events_api.TrackView.as_view(), name="api-track"),
    path("api/v1/figures/", figures_views.FiguresView.as_view(), name="api-figures"),
    path("api/v1/bookings/<slug:reference>/bill-of-lading/", bill_of_lading_views.BillOfLadingView.as_view(),
         name="api-bill-of-lading"),
    path("api/v1/bookings/<slug:reference>/bill-of-lading/issue/",
         bill_of_lading_views.BillOfLadingIssueView.as_view(), name="api-bill-of-lading-issue"),
    path("api/v1/bookings/<slug:reference>/bill-of-lading/pdf/", bill_of_lading_views.BillOfLadingPdfView.as_view(),
         name="api-bill-of-lading-pdf"),
    path("api/v1/", include(router.urls)),
    path("api/dcsa/tnt/v2/events", bookings_dcsa.DcsaEventListView.as_view(), name="dcsa-events"),
    path("api/dcsa/tnt/v2/events/<str:eventID>", bookings_dcsa.DcsaEventDetailView.as_view(), name="dcsa-event"),
    path("api/dcsa/tnt/v2/event-subscriptions", notifications_dcsa.DcsaSubscriptionListView.as_view(),
         name="dcsa-subscriptions"),
    path("api/dcsa/tnt/v2/event-subscriptions/<str:subscriptionID>",
         notifications_dcsa.DcsaSubscriptionDetailView.as_view(), name="dcsa-subscription"),
    path("api/dcsa/tnt/v2/event-subscriptions/<str:subscriptionID>/secret",
         notifications_dcsa.DcsaSubscriptionSecretView.as_view(), name="dcsa-subscription-secret"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file: the page needs no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]


def handler404(request, exception=None):
    if request.path.startswith("/api/"):
        return json_error_view(404, _("Not found."))(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if request.path.startswith("/api/"):
        return json_error_view(500, _("Server error."))(request)
    from django.views.defaults import server_error

    return server_error(request)
