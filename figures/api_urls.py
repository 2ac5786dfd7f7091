from django.urls import path

from figures import views

urlpatterns = [
    path("figures/", views.FiguresView.as_view(), name="api-figures"),
]
