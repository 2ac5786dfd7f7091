"""Partner event feeds: read the events you may see (GET /api/v1/events/), track a booking or container."""

import django_filters
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import pagination, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from databases.prepared import shaped
from databases.replicas import ReplicaReadsMixin
from guard.text import normalise_code, normalise_reference
from intermodal import feed
from intermodal.access import Actor
from intermodal.api import CodeFilter, FilterBackend, IsoDateTimeFilter, ReferenceFilter, StrictPageSize
from intermodal.codes import Classifier, EventType
from intermodal.models import Event, Scope
from tracking import cache as tracking_cache
from tracking import timeline as tracking
from tracking.visibility import as_seen_by, events_visible, visible_among


class EventOutSerializer(serializers.ModelSerializer):
    """An event in the platform's JSON (GET /api/v1/events/ and the webhook body's `data`), as the party kind in
    the context (`party_kind`) may know it (tracking.visibility)."""

    reported_by = serializers.SlugRelatedField(source="reported_by_organisation", slug_field="code", read_only=True)
    supersedes = serializers.SerializerMethodField(
        help_text=_("A correction: the event_id of the report it replaces (same step, the right time); null otherwise.")
    )

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_supersedes(self, instance) -> str | None:
        # The corrected event's id is kept in the correction's details: no join per event in a feed.
        return instance.details.get("supersedes") if instance.supersedes_id else None

    def to_representation(self, instance):
        [instance] = as_seen_by(self.context.get("party_kind"), [instance])
        return super().to_representation(instance)

    class Meta:
        model = Event
        fields = [
            "event_id",
            "event_type",
            "event_code",
            "classifier",
            "event_datetime",
            "created_at",
            "location_unlocode",
            "facility_kind",
            "facility_code",
            "mode_of_transport",
            "transport_reference",
            "equipment_reference",
            "empty_indicator",
            "booking_reference",
            "document_type",
            "document_reference",
            "reason",
            "reported_by",
            "supersedes",
        ]


class EventFilter(django_filters.FilterSet):
    booking = ReferenceFilter(field_name="booking_reference")
    container = CodeFilter(field_name="equipment_reference")
    station = django_filters.CharFilter(method="filter_station")
    transport = ReferenceFilter(field_name="transport_reference")
    code = django_filters.CharFilter(field_name="event_code")
    event_type = django_filters.ChoiceFilter(choices=EventType.choices)
    classifier = django_filters.ChoiceFilter(choices=Classifier.choices)
    since = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gt", label=_("Recorded after (ISO 8601)")
    )
    after = django_filters.UUIDFilter(
        method="filter_after",
        label=_("The events after this one (its event_id) in the feed's order: poll with the last one you "
                "processed and you miss none, whatever order transactions commit in"),
    )

    class Meta:
        model = Event
        fields = ["booking", "container", "station", "transport", "code", "event_type", "classifier", "since",
                  "after"]

    def named(self) -> Q | None:
        """The events the booking, container and transport filters name (few: their own indexes find them), as one
        filter; None without such a filter, or with a value the form refuses (the filter backend answers the 400)."""
        if not self.is_valid():
            return None
        data, among = self.form.cleaned_data, Q()
        for name, field, normalise in (("booking", "booking_reference", normalise_reference),
                                       ("container", "equipment_reference", normalise_code),
                                       ("transport", "transport_reference", normalise_reference)):
            if data.get(name):
                among &= Q(**{field: normalise(data[name])})
        return among or None

    def filter_station(self, queryset, name, value):
        return queryset.filter(facility_kind="station", facility_code=normalise_reference(value))

    def filter_after(self, queryset, name, value):
        anchor = queryset.filter(event_id=value).values("txid", "id").first()
        if anchor is None and queryset.db != DEFAULT_DB_ALIAS:
            # Read from the primary a moment ago, not replayed on the replica yet: what follows it is not either.
            anchor = queryset.using(DEFAULT_DB_ALIAS).filter(event_id=value).values("txid", "id").first()
        if anchor is None:
            raise ValidationError({"after": [_("No event %(id)s among those you may read.") % {"id": value}]})
        return queryset.filter(Q(txid__gt=anchor["txid"]) | Q(txid=anchor["txid"], id__gt=anchor["id"]))


class EventCursor(StrictPageSize, pagination.CursorPagination):
    ordering = feed.ORDER  # the order of the writing transactions: no later commit lands behind a cursor
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class EventsView(ReplicaReadsMixin, ListAPIView):
    """Read the events you may see, oldest first, with a cursor (journey.api adds reporting them on this route)."""

    serializer_class = EventOutSerializer
    filterset_class = EventFilter
    pagination_class = EventCursor
    filter_backends = [FilterBackend]
    required_scopes = {"GET": Scope.EVENTS_READ}

    def get_queryset(self):
        actor = Actor.from_request(self.request)
        # Filtered by a booking, a container or a transport, the feed decides visibility for what those few events
        # name (visible_among), not for every booking the caller may see: a shipper's 674 bookings, read from disk
        # when cold, made a container's six events take 57 ms at a year of traffic instead of 16-19.
        named = EventFilter(self.request.query_params, queryset=Event.objects.none()).named()
        if named is None:
            return feed.committed_in_order(events_visible(actor=actor))
        # Its page is then read by a statement prepared for the shape of the filters given, as DCSA polls' are: at a
        # year of events, planning the read over every monthly partition cost more than running it (P8).
        return shaped(feed.committed_in_order(visible_among(actor=actor, among=named)))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "party_kind": Actor.from_request(self.request).kind}


class StepSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    place = serializers.CharField()
    planned = serializers.DateTimeField(allow_null=True)
    estimated = serializers.DateTimeField(allow_null=True)
    actual = serializers.DateTimeField(allow_null=True)
    deadline = serializers.DateTimeField(allow_null=True)
    done = serializers.BooleanField()
    corrected = serializers.BooleanField(help_text=_("The actual time is its reporter's correction of a wrong one."))


class TrackContainerSerializer(serializers.Serializer):
    number = serializers.CharField()
    size_type = serializers.CharField()
    status = serializers.CharField()
    last_event_at = serializers.DateTimeField(allow_null=True)


class TrackSerializer(serializers.Serializer):
    booking = serializers.CharField(source="booking.reference")
    status = serializers.CharField(source="booking.status")
    station = serializers.CharField(source="booking.departure.service.station.code")
    departure = serializers.CharField(source="booking.departure.reference")
    vessel_call = serializers.CharField(source="booking.vessel_call.reference")
    vessel_name = serializers.CharField(source="booking.vessel_call.vessel_name")
    cy_cutoff = serializers.DateTimeField(source="booking.vessel_call.cy_cutoff")
    eta_at_terminal = serializers.DateTimeField(source="booking.eta_at_terminal", allow_null=True)
    at_risk = serializers.BooleanField()
    left_behind = serializers.BooleanField()
    now = serializers.CharField(source="current.label", allow_null=True, default=None)
    containers = TrackContainerSerializer(many=True)
    steps = StepSerializer(many=True)


def _time_in(zone):
    """DRF's rendering of an aware time (DateTimeField, ISO 8601): in `zone`, "Z" for UTC."""

    def render(value) -> str | None:
        if value is None:
            return None
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return render


def track_answer(timeline: tracking.Timeline) -> dict:
    """TrackSerializer's data, written out: the same keys and values (tests/test_tracking_api.py holds them
    equal), at a tenth of the serializers' cost on the platform's most-called read (P5, docs/PERFORMANCE.md)."""
    booking = timeline.booking
    departure, call = booking.departure, booking.vessel_call
    current = timeline.current
    _time = _time_in(timezone.get_current_timezone())
    return {
        "booking": booking.reference,
        "status": booking.status,
        "station": departure.service.station.code,
        "departure": departure.reference,
        "vessel_call": call.reference,
        "vessel_name": call.vessel_name,
        "cy_cutoff": _time(call.cy_cutoff),
        "eta_at_terminal": _time(booking.eta_at_terminal),
        "at_risk": bool(timeline.at_risk),
        "left_behind": bool(timeline.left_behind),
        "now": None if current is None else str(current.label),
        "containers": [
            {"number": container.number, "size_type": container.size_type, "status": container.status,
             "last_event_at": _time(container.last_event_at)}
            for container in timeline.containers],
        "steps": [
            {"key": step.key, "label": str(step.label), "place": str(step.place), "planned": _time(step.planned),
             "estimated": _time(step.estimated), "actual": _time(step.actual), "deadline": _time(step.deadline),
             "done": step.done, "corrected": bool(step.corrected)}
            for step in timeline.steps],
    }


class TrackView(ReplicaReadsMixin, APIView):
    """Where a booking or container is: its steps planned, estimated and done, ETA to the vessel, at risk."""

    required_scopes = {"*": Scope.EVENTS_READ}

    @extend_schema(
        responses={200: TrackSerializer, 404: OpenApiTypes.OBJECT},
        summary="Track",
        parameters=[
            OpenApiParameter("key", str, OpenApiParameter.PATH, description="A container number or a booking reference")
        ],
    )
    def get(self, request, key: str):
        actor = Actor.from_request(request)

        def build():
            timeline = tracking.track_lookup(actor=actor, key=key)
            booking = timeline.booking
            route = (booking.reference, booking.departure.reference, booking.vessel_call.reference)
            return track_answer(timeline), route

        organisation_id = getattr(actor.organisation, "pk", None)
        return Response(tracking_cache.answer(organisation_id=organisation_id, key=key, build=build,
                                              read_ahead=getattr(request, "read_ahead", None)))

    def read_ahead_keys(self, request) -> list[str]:
        """The cache entries the look-up reads first, read by the rate limit with its count (one round trip)."""
        organisation = Actor.from_request(request).organisation
        return tracking_cache.first_keys(organisation_id=getattr(organisation, "pk", None), key=self.kwargs["key"])
