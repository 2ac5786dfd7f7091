"""DCSA Track & Trace 2.2.0 event subscriptions, under /api/dcsa/tnt/v2/."""

from django.urls import path

from notifications import dcsa

urlpatterns = [
    path("event-subscriptions", dcsa.DcsaSubscriptionListView.as_view(), name="dcsa-subscriptions"),
    path("event-subscriptions/<str:subscriptionID>", dcsa.DcsaSubscriptionDetailView.as_view(),
         name="dcsa-subscription"),
    path("event-subscriptions/<str:subscriptionID>/secret", dcsa.DcsaSubscriptionSecretView.as_view(),
         name="dcsa-subscription-secret"),
]
