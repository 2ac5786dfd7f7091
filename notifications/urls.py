from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.inbox, name="inbox"),
    path("notifications/<int:pk>/read/", views.notification_read, name="read"),
    path("notifications/read-all/", views.notifications_read_all, name="read-all"),
    path("notifications/email/", views.email_preferences, name="email-preferences"),
    path("webhooks/", views.subscription_list, name="subscriptions"),
    path("webhooks/new/", views.subscription_new, name="subscription-new"),
    path("webhooks/<uuid:subscription_id>/", views.subscription_detail, name="subscription"),
    path("webhooks/<uuid:subscription_id>/rotate-secret/", views.subscription_rotate, name="subscription-rotate"),
    path("webhooks/<uuid:subscription_id>/test/", views.subscription_test, name="subscription-test"),
    path("webhooks/<uuid:subscription_id>/delete/", views.subscription_delete, name="subscription-delete"),
    path("webhooks/deliveries/<str:webhook_id>/", views.delivery_detail, name="delivery"),
    path("webhooks/deliveries/<str:webhook_id>/resend/", views.delivery_resend, name="delivery-resend"),
]
