from rest_framework.routers import SimpleRouter

from notifications import api

router = SimpleRouter(trailing_slash=True)
router.register("subscriptions", api.SubscriptionViewSet, basename="subscription")
router.register("webhook-deliveries", api.DeliveryViewSet, basename="webhook-delivery")
router.register("notifications", api.NotificationViewSet, basename="notification")

urlpatterns = router.urls
