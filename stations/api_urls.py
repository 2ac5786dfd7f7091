from rest_framework.routers import SimpleRouter

from stations import api

router = SimpleRouter(trailing_slash=True)
router.register("stations", api.StationViewSet, basename="station")
router.register("services", api.ServiceViewSet, basename="service")
router.register("departures", api.DepartureViewSet, basename="departure")
router.register("vessel-calls", api.VesselCallViewSet, basename="vessel-call")

urlpatterns = router.urls
