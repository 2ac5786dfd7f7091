"""API for the caller's own organisation: who am I, and the organisation's API keys."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from intermodal.access import Actor, KeyPrincipal, api_key_create, api_key_revoke, scopes_held
from intermodal.api import KnownFieldsOnly
from intermodal.idempotency import IDEMPOTENCY_KEY, idempotent
from intermodal.models import ApiKey, Organisation, Scope


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["code", "name", "name_zh", "kind", "city", "province"]


class MeSerializer(serializers.Serializer):
    organisation = OrganisationSerializer()
    username = serializers.CharField(allow_null=True)
    via = serializers.ChoiceField(choices=["session", "api_key"])
    scopes = serializers.ListField(child=serializers.CharField())


class MeView(APIView):
    """The organisation (and person or key) the request acts for, and its scopes."""

    @extend_schema(responses=MeSerializer, summary="Who am I")
    def get(self, request):
        actor = Actor.from_request(request)
        if actor.organisation is None:
            return Response(
                {"status": 403, "code": "no_organisation", "detail": str(_("This account belongs to no organisation.")),
                 "errors": {}},
                status=status.HTTP_403_FORBIDDEN,
            )
        is_key = isinstance(request.user, KeyPrincipal)
        data = {
            "organisation": actor.organisation,
            "username": None if is_key else request.user.get_username(),
            "via": "api_key" if is_key else "session",
            "scopes": scopes_held(actor),
        }
        return Response(MeSerializer(data).data)


class ApiKeySerializer(KnownFieldsOnly, serializers.ModelSerializer):
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=Scope.choices), required=False, allow_empty=False, min_length=1,
        max_length=len(Scope.choices),
        help_text=_("Defaults to the organisation's default scopes that the caller holds; never more than the "
                    "caller's own (a key's scopes, or a person's party's)."),
    )

    class Meta:
        model = ApiKey
        fields = ["prefix", "name", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at"]
        read_only_fields = ["prefix", "created_at", "revoked_at", "last_used_at"]


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text=_("The full key. It is shown this once only."))

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    viewsets.GenericViewSet):
    """The caller's organisation's API keys. Another organisation's key is a 404."""

    serializer_class = ApiKeySerializer
    lookup_field = "prefix"
    required_scopes = {"*": Scope.KEYS_MANAGE}
    ordering = ["-created_at"]
    ordering_fields = ["created_at", "last_used_at", "name"]
    filterset_fields = []

    def get_queryset(self):
        actor = Actor.from_request(self.request)
        return ApiKey.objects.filter(organisation=actor.organisation)

    @extend_schema(request=ApiKeySerializer, responses={201: ApiKeyCreatedSerializer}, parameters=[IDEMPOTENCY_KEY])
    @idempotent(secret_fields=("key",))
    def create(self, request, *args, **kwargs):
        actor = Actor.from_request(request)
        serializer = ApiKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # A key never gets more than whoever asks for it holds, nor lives longer than the settings allow.
        key, raw = api_key_create(
            organisation=actor.organisation,
            name=serializer.validated_data["name"],
            scopes=serializer.validated_data.get("scopes"),
            expires_at=serializer.validated_data.get("expires_at"),
            created_by=actor.user,
            granted_by=scopes_held(actor),
        )
        data = ApiKeyCreatedSerializer(key).data
        data["key"] = raw
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ApiKeySerializer, summary="Revoke a key")
    @action(detail=True, methods=["post"])
    def revoke(self, request, prefix=None):
        key = api_key_revoke(key=self.get_object())
        return Response(ApiKeySerializer(key).data)


router = SimpleRouter(trailing_slash=True)
router.register("api-keys", ApiKeyViewSet, basename="api-key")
