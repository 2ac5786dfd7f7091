from rest_framework.routers import SimpleRouter

from customs import api

router = SimpleRouter(trailing_slash=True)
router.register("declarations", api.DeclarationViewSet, basename="declaration")

urlpatterns = router.urls
