"""Partner event reports: journey events, one or up to 1,000 at once (POST /api/v1/events/, beside tracking's read).

Reported events go through the same journey functions as the pages, so the same checks apply. In a bulk,
each item applies on its own: a refused item is reported with its reason and does not stop the others. Runs of
departure estimates in a bulk are applied as one batch each, runs of container steps (gate-ins, loads,
discharges) and of trains' departures and arrivals with their writes made together (journey.steps_deferred,
journey.transports_deferred), with the same checks and outcome per item.
The whole list is one transaction that commits with its answer (all or reported).
"""

import time

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from bookings.models import Container, ContainerStatus, EmptyRequest, VgmMethod
from bookings.selectors import booking_list
from inbound.models import ArrivingContainer
from intermodal.access import Actor
from intermodal.api import CodeField, KnownFieldsOnly, _flatten, error_body
from intermodal.codes import Classifier, EventType
from intermodal.errors import ApplicationError, InvalidInput
from intermodal.idempotency import IDEMPOTENCY_KEY, idempotent
from intermodal.models import PartyKind, Scope
from journey import imports
from journey import services as journey
from journey.corrections import event_correct
from journey.models import ReportedEvent
from stations.models import Departure, Station, VesselCall
from tracking.api import EventOutSerializer
from tracking.api import EventsView as EventsReadView
from tracking.visibility import events_visible

MAX_BULK = 1000
# A refused list names at most this many fields: enough to fix a client, never a megabyte of errors.
MAX_ITEM_ERRORS = 100
REPORTABLE = {
    EventType.EQUIPMENT: {"AVPU", "GTOT", "GTIN", "LOAD", "DISC"},
    EventType.TRANSPORT: {"DEPA", "ARRI"},
}


class EventReportSerializer(KnownFieldsOnly, serializers.Serializer):
    event_type = serializers.ChoiceField(choices=[EventType.EQUIPMENT, EventType.TRANSPORT])
    event_code = serializers.CharField(max_length=4)
    classifier = serializers.ChoiceField(choices=[Classifier.ACTUAL, Classifier.ESTIMATED], default=Classifier.ACTUAL)
    event_datetime = serializers.DateTimeField(
        required=False, help_text=_("When it happened (ACT, default now) or will (EST).")
    )
    equipment_reference = CodeField(max_length=11, required=False, help_text=_("Container number"))
    transport_reference = serializers.CharField(
        max_length=50, required=False, help_text=_("A departure or vessel call reference.")
    )
    empty_request = serializers.IntegerField(
        required=False, min_value=1,
        help_text=_("For AVPU (empties ready) and GTOT (an empty handed out): the empty container request."),
    )
    seal_number = CodeField(max_length=30, required=False)
    vgm_kg = serializers.DecimalField(max_digits=8, decimal_places=1, min_value=1000, max_value=60000, required=False)
    vgm_method = serializers.ChoiceField(choices=VgmMethod.choices, required=False)
    vgm_signatory = serializers.CharField(max_length=100, required=False)
    reason = serializers.CharField(max_length=250, required=False, default="")
    external_id = serializers.CharField(
        max_length=100, required=False, default="",
        help_text=_("Your own id of this event, unique among your organisation's reports: sent again (a retry after "
                    "a timeout), the event is not applied twice and the answer is the first one's, marked "
                    "`replayed`. A refused report keeps no id: sent again, it is tried again."),
    )
    confirm = serializers.BooleanField(
        required=False, default=False,
        help_text=_("Record an actual time that is far from the plan, before the previous step, or faster than the "
                    "planned transit: such a report is refused (409, code `implausible`, the reasons on "
                    "`event_datetime`) unless this is true."),
    )

    def validate(self, attrs):
        kind, code = attrs["event_type"], attrs["event_code"].upper()
        attrs["event_code"] = code
        if code not in REPORTABLE[kind]:
            raise ValidationError(
                {
                    "event_code": [
                        _("%(code)s %(kind)s events cannot be reported here (allowed: %(allowed)s).")
                        % {"code": code, "kind": kind, "allowed": ", ".join(sorted(REPORTABLE[kind]))}
                    ]
                }
            )
        if kind == EventType.EQUIPMENT:
            if code == "AVPU":
                if "empty_request" not in attrs:
                    raise ValidationError({"empty_request": [_("Name the empty container request that is ready.")]})
            elif "equipment_reference" not in attrs:
                raise ValidationError({"equipment_reference": [_("Equipment events need the container number.")]})
            if attrs["classifier"] != Classifier.ACTUAL:
                raise ValidationError({"classifier": [_("Equipment events are reported when they happen (ACT).")]})
        elif "transport_reference" not in attrs:
            raise ValidationError({"transport_reference": [_("Transport events need the departure or vessel call.")]})
        if attrs["classifier"] == Classifier.ESTIMATED and "event_datetime" not in attrs:
            raise ValidationError({"event_datetime": [_("An estimate needs the expected time.")]})
        return attrs


def _transport(reference: str):
    departure = (
        Departure.objects.select_related("service__station", "service__terminal").filter(reference=reference).first()
    )
    if departure is not None:
        return departure
    call = VesselCall.objects.select_related("terminal").filter(reference=reference).first()
    if call is None:
        raise InvalidInput(
            errors={"transport_reference": [_("No departure or vessel call %(ref)s.") % {"ref": reference}]}
        )
    return call


def _import_step(actor: Actor, data: dict):
    """An equipment event on an import container, carried out by its import step; None for an export's."""
    code, at, confirmed = data["event_code"], data.get("event_datetime"), data.get("confirm", False)
    if code == "AVPU" or (code == "GTOT" and data.get("empty_request")):
        return None
    number = data["equipment_reference"].strip().upper().replace(" ", "")
    container = journey.active_container_found(number)
    if container is None:
        if code == "DISC" and journey.announced_to_discharge(number, lock=False) is not None:
            return imports.vessel_discharge(actor=actor, number=number, at=at, confirmed=confirmed)
        return None
    if not container.booking.is_import:
        return None
    if code == "DISC":
        step = imports.vessel_discharge if container.status == ContainerStatus.ARRIVING else imports.station_discharge
        return step(actor=actor, number=number, at=at, confirmed=confirmed)
    if code == "LOAD":
        reference = data.get("transport_reference")
        departure = journey.run_memo(("transport", reference), lambda: _transport(reference)) if reference else None
        if departure is not None and not isinstance(departure, Departure):
            raise InvalidInput(errors={"transport_reference": [_("Load on a train names a departure.")]})
        return imports.import_train_load(actor=actor, number=number, departure=departure, at=at, confirmed=confirmed)
    if code == "GTOT":
        return imports.import_gate_out(actor=actor, number=number, at=at, confirmed=confirmed)
    return imports.empty_return(actor=actor, number=number, station=_return_station(actor, container), at=at,
                                confirmed=confirmed)


def _return_station(actor: Actor, container: Container) -> Station | None:
    """Where station staff take an empty back: the booking's station if theirs, else their station with a depot."""
    if actor.kind != PartyKind.STATION_OPERATOR:
        return None
    stations = journey.run_memo("depots", lambda: list(
        Station.objects.filter(operator=actor.organisation, has_empty_depot=True).order_by("code")))
    own = [station for station in stations if station.pk == container.booking.departure.service.station_id]
    return (own or stations or [None])[0]


def _empty_request(actor: Actor, pk: int | None) -> EmptyRequest | None:
    """The empty request an item names, among those the actor may see: in a run of hand-outs, the run's requests
    read once for all of its items."""
    in_run = journey.requests_in_run()
    if not in_run or pk not in in_run:
        return EmptyRequest.objects.filter(pk=pk, booking__in=booking_list(actor=actor)).first()
    visible = journey.run_memo("visible requests", lambda: {request.pk: request for request in EmptyRequest.objects
                                                            .filter(pk__in=sorted(in_run),
                                                                    booking__in=booking_list(actor=actor))})
    return visible.get(pk)


def event_apply(*, actor: Actor, data: dict):
    """Carry out one reported event through the journey; returns the container or transport it moved."""
    code, at, confirmed = data["event_code"], data.get("event_datetime"), data.get("confirm", False)
    if data["event_type"] == EventType.TRANSPORT:
        transport = _transport(data["transport_reference"])
        if data["classifier"] == Classifier.ESTIMATED:
            if isinstance(transport, Departure):
                key = "estimated_departure" if code == "DEPA" else "estimated_arrival"
                return journey.departure_estimate(actor=actor, departure=transport, reason=data["reason"], **{key: at})
            key = "etd" if code == "DEPA" else "eta"
            return journey.vessel_call_estimate(actor=actor, vessel_call=transport, reason=data["reason"], **{key: at})
        if isinstance(transport, Departure):
            step = journey.train_depart if code == "DEPA" else journey.train_arrive
            return step(actor=actor, departure=transport, at=at, confirmed=confirmed)
        if code == "DEPA":
            return journey.vessel_depart(actor=actor, vessel_call=transport, at=at, confirmed=confirmed)
        return imports.vessel_arrive(actor=actor, vessel_call=transport, at=at, confirmed=confirmed)

    imported = _import_step(actor, data)
    if imported is not None:
        return imported
    if code in ("AVPU", "GTOT"):
        request = _empty_request(actor, data.get("empty_request"))
        if request is None:
            raise InvalidInput(errors={"empty_request": [_("Name the empty container request this serves.")]})
        if code == "AVPU":
            return journey.empty_request_ready(actor=actor, request=request, at=at)
        return journey.empty_hand_out(actor=actor, request=request, number=data["equipment_reference"])
    number = data["equipment_reference"]
    if code == "DISC":
        return journey.train_discharge(actor=actor, number=number, at=at, confirmed=confirmed)
    at_port = actor.kind == PartyKind.PORT or (
        actor.kind == PartyKind.PLATFORM_ADMIN
        and Container.objects.filter(
            number=number.upper(), is_active=True, status__in=[ContainerStatus.DISCHARGED, ContainerStatus.AT_TERMINAL]
        ).exists()
    )
    if code == "GTIN":
        if at_port:
            return journey.terminal_gate_in(actor=actor, number=number, at=at, confirmed=confirmed)
        missing = [f for f in ("seal_number", "vgm_kg", "vgm_method", "vgm_signatory") if f not in data]
        if missing:
            raise InvalidInput(
                errors={f: [_("A laden gate-in at the station needs the seal and the VGM.")] for f in missing}
            )
        return journey.laden_gate_in(
            actor=actor,
            number=number,
            seal_number=data["seal_number"],
            vgm_kg=data["vgm_kg"],
            vgm_method=data["vgm_method"],
            vgm_signatory=data["vgm_signatory"],
            at=at,
            confirmed=confirmed,
        )
    if at_port:
        return journey.vessel_load(actor=actor, number=number, at=at, confirmed=confirmed)
    reference = data.get("transport_reference")  # the train, read once for a run's loads
    departure = (journey.run_memo(("transport", reference), lambda: _transport(reference))
                 if "transport_reference" in data else None)
    if departure is not None and not isinstance(departure, Departure):
        raise InvalidInput(errors={"transport_reference": [_("Load on a train names a departure.")]})
    return journey.train_load(actor=actor, number=number, departure=departure, at=at, confirmed=confirmed)


def _describe(result) -> dict:
    if isinstance(result, EmptyRequest):
        return {"empty_request": result.pk, "empty_request_status": result.status}
    if isinstance(result, Container):
        return {"equipment_reference": result.number, "container_status": result.status}
    if isinstance(result, Departure):
        return {"transport_reference": result.reference, "departure_status": result.status}
    if isinstance(result, ArrivingContainer):
        return {"equipment_reference": result.number, "container_status": ContainerStatus.AT_TERMINAL.value}
    return {"transport_reference": result.reference}


def _refusal(exc: ApplicationError) -> dict:
    return error_body(
        exc.status, exc.message, code=exc.code, errors={k: [str(m) for m in v] for k, v in exc.errors.items()}
    )


def _invalid(detail) -> dict:
    return error_body(400, _("The input is not valid."), code="invalid", errors=_flatten(detail))


def _apply_validated(actor: Actor, data: dict) -> tuple[int, dict]:
    try:
        with journey.step_deferred():  # in a run of container steps: a refused one keeps nothing
            result = event_apply(actor=actor, data=data)
    except ApplicationError as exc:
        return exc.status, _refusal(exc)
    return 201, {"status": 201, "result": "applied", **_describe(result)}


class _Refused(Exception):
    """Rolls back a report named with an external id that was refused: its id is not kept."""

    def __init__(self, code: int, body: dict):
        super().__init__(code)
        self.code, self.body = code, body


def _apply_reported(actor: Actor, data: dict) -> tuple[int, dict]:
    """Apply a validated report; one named with the reporter's `external_id` once only. The id is claimed first,
    in the transaction that applies the event (INSERT ... ON CONFLICT DO NOTHING: a second post of the same id
    waits there for the first to commit or roll back), and keeps the answer; a post whose id is already kept
    gets that answer again, marked replayed, and changes nothing."""
    external_id = data.get("external_id", "")
    if not external_id or actor.organisation is None:
        return _apply_validated(actor, data)
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {ReportedEvent._meta.db_table} (organisation_id, external_id, created_at) "  # noqa: S608
                    "VALUES (%s, %s, now()) ON CONFLICT DO NOTHING RETURNING id",
                    [actor.organisation.pk, external_id])
                claimed = cursor.fetchone()
            if claimed is None:
                first = ReportedEvent.objects.get(organisation=actor.organisation, external_id=external_id)
                return first.status, {**first.body, "replayed": True}
            code, body = _apply_validated(actor, data)
            if code != 201:
                raise _Refused(code, body)
            ReportedEvent.objects.filter(pk=claimed[0]).update(status=code, body={**body, "external_id": external_id})
            return code, {**body, "external_id": external_id}
    except _Refused as refused:
        return refused.code, refused.body


def _apply_one(actor: Actor, item) -> tuple[int, dict]:
    serializer = EventReportSerializer(data=item)
    if not serializer.is_valid():
        return 400, _invalid(serializer.errors)
    return _apply_reported(actor, serializer.validated_data)


def _departure_estimate(data: dict, departures: dict[str, int]) -> journey.DepartureEstimate | None:
    """The item as a departure's estimate when it is one (applied in a batch), else None. An estimate named with
    an external id goes on its own, with its id, in its transaction."""
    if (data["event_type"] != EventType.TRANSPORT or data["classifier"] != Classifier.ESTIMATED
            or data.get("external_id")):
        return None
    departure_id = departures.get(data["transport_reference"])
    if departure_id is None:
        return None
    return journey.DepartureEstimate(
        departure_id=departure_id,
        reference=data["transport_reference"],
        code=data["event_code"],
        at=data["event_datetime"],
        reason=data["reason"],
    )


def _apply_estimates(actor: Actor, run: list[tuple[int, journey.DepartureEstimate]], results: list) -> None:
    """Apply consecutive departure estimates as one batch; should the batch's write fail, one by one."""
    try:
        outcomes = journey.departure_estimates(actor=actor, estimates=[estimate for _index, estimate in run])
    except DatabaseError:
        outcomes = []
        for _index, estimate in run:
            key = "estimated_departure" if estimate.code == "DEPA" else "estimated_arrival"
            try:
                outcomes.append(
                    journey.departure_estimate(
                        actor=actor,
                        departure=Departure(pk=estimate.departure_id),
                        reason=estimate.reason,
                        **{key: estimate.at},
                    )
                )
            except ApplicationError as exc:
                outcomes.append(exc)
    for (index, _estimate), outcome in zip(run, outcomes, strict=True):
        if isinstance(outcome, ApplicationError):
            results[index] = {"index": index, **_refusal(outcome)}
        else:
            results[index] = {"index": index, "status": 201, "result": "applied", **_describe(outcome)}


def events_apply_bulk(*, actor: Actor, items: list) -> list[dict]:
    """A list of reported events, each with its own result, as if each were posted alone and in order.

    Every item is validated first, against what the schema documents for an item (fields, types, codes, text
    policy): a list with any item that does not match is refused whole, a 400 naming `<index>.<field>`, and
    nothing is applied - the request is not the documented one, and a client's bug is not half-applied. Items
    that match are refused one by one only for what the state says (an unknown container, a step out of order).
    Runs of consecutive estimates for departures (the bulk of a railway's feed) are applied in one transaction
    each (`journey.departure_estimates`: one lock, two INSERTs and one UPDATE for the run); the other items one
    by one through `event_apply`, in their place in the order."""
    checker = EventReportSerializer()  # one instance: its fields are bound once, not once per item
    validated: list[dict] = []
    invalid: dict[str, list[str]] = {}
    for index, item in enumerate(items):
        try:
            validated.append(checker.run_validation(item))
        except ValidationError as exc:
            for field, messages in _flatten({str(index): exc.detail}).items():
                invalid.setdefault(field, []).extend(messages)
    if invalid:
        raise ValidationError(dict(list(invalid.items())[:MAX_ITEM_ERRORS]))
    results: list[dict | None] = [None] * len(items)
    # All or reported: the list is applied in one transaction (each item in a savepoint of its own, refused alone),
    # which commits only with the answer that reports every item. A list that would run past EVENTS_BULK_SECONDS
    # (below the server's timeout, after which the client would get no answer) is rolled back whole and answered
    # 503: nothing of it is kept, so sending it again (or in smaller lists) applies each event once.
    with transaction.atomic():
        _apply_in_order(actor, validated, results, deadline=time.monotonic() + settings.EVENTS_BULK_SECONDS)
    return results


def _past(deadline: float, index: int, count: int) -> None:
    if time.monotonic() > deadline:
        raise ApplicationError(
            _("The list took longer than %(seconds)s seconds to apply (at item %(index)s of %(count)s) and was rolled "
              "back: nothing of it was applied. Send it again, or in smaller lists.")
            % {"seconds": settings.EVENTS_BULK_SECONDS, "index": index, "count": count},
            status=503, code="too_slow")


# Container steps applied as one run at most (their writes made together: journey.steps_deferred).
MAX_STEP_RUN = 500
# The kinds of run: container steps; empties handed out (which put new containers on bookings).
_RUN_KINDS = {"GTIN": "steps", "LOAD": "steps", "DISC": "steps", "GTOT": "hand-outs"}


def _step_of(data: dict) -> tuple[str, str] | None:
    """(kind of run, container) of an item applied in a run of its kind, else None."""
    kind = _RUN_KINDS.get(data["event_code"]) if data["event_type"] == EventType.EQUIPMENT else None
    return None if kind is None else (kind, data["equipment_reference"].strip().upper().replace(" ", ""))


def _apply_steps(actor: Actor, run: list[tuple[int, dict, str]], results: list) -> None:
    """A run of container steps, each container once: its rows read and locked once, by id (two runs over the
    same containers wait for each other instead of deadlocking), each step checked as if posted alone, in order,
    and the writes made together (one INSERT of the events, one of the outbox, an UPDATE of the containers)."""
    loads = [number for _i, data, number in run if data["event_code"] == "LOAD"]
    _apply_together(actor, run, results, lambda: journey.steps_deferred(
        [number for _i, _d, number in run], trains_of=loads, import_trains_only=actor.kind == PartyKind.PORT,
        discharges=[number for _i, data, number in run if data["event_code"] == "DISC"],
        requests=[data.get("empty_request") for _i, data, _n in run if data["event_code"] == "GTOT"]))


def _apply_together(actor: Actor, run: list[tuple[int, dict, object]], results: list, together) -> None:
    """The run's items applied inside `together()` (their writes made together as it ends), in a savepoint of
    their own; should the writes fail, the run is undone and applied one item after the other."""
    if len(run) > 1:
        try:
            with transaction.atomic(), together():
                for index, data, _key in run:
                    results[index] = {"index": index, **_apply_reported(actor, data)[1]}
            return
        except DatabaseError:
            pass
    for index, data, _key in run:
        results[index] = {"index": index, **_apply_reported(actor, data)[1]}


def _transport_step_of(data: dict, departures: dict[str, int]) -> tuple[str, int] | None:
    """("transports", departure id) of a train's departure or arrival (DEPA, ARRI actual), applied in a run."""
    if data["event_type"] != EventType.TRANSPORT or data["classifier"] != Classifier.ACTUAL:
        return None
    departure_id = departures.get(data["transport_reference"])
    return None if departure_id is None else ("transports", departure_id)


def _apply_transports(actor: Actor, run: list[tuple[int, dict, int]], results: list) -> None:
    """A run of trains' departures and arrivals, each departure once: the departures locked once, by id, each step
    checked as if posted alone, in order, and the writes made together (journey.transports_deferred)."""
    _apply_together(actor, run, results, lambda: journey.transports_deferred([pk for _i, _d, pk in run]))


def _apply_in_order(actor: Actor, validated: list[dict], results: list, *, deadline: float) -> None:
    """Items in their order; consecutive departure estimates as one batch, consecutive container steps,
    consecutive hand-outs of empties and consecutive trains' departures and arrivals as one run each (until a
    container or departure comes again: its next step reads what the first wrote), every other item alone."""
    references = {
        data["transport_reference"]
        for data in validated
        if data["event_type"] == EventType.TRANSPORT and data["classifier"] in (Classifier.ESTIMATED, Classifier.ACTUAL)
    }
    departures = dict(Departure.objects.filter(reference__in=references).values_list("reference", "pk"))
    estimates: list[tuple[int, journey.DepartureEstimate]] = []
    steps: list[tuple[int, dict, str]] = []
    run_kind, in_steps = None, set()
    for index, data in enumerate(validated):
        _past(deadline, index, len(validated))
        estimate = _departure_estimate(data, departures)
        kind, number = ((_step_of(data) or _transport_step_of(data, departures)) if estimate is None else None) or (
            None, None)
        if estimate is None and estimates:
            _apply_estimates(actor, estimates, results)
            estimates = []
        if steps and (kind != run_kind or number in in_steps or len(steps) >= MAX_STEP_RUN):
            _apply_run(actor, run_kind, steps, results)
            steps, in_steps = [], set()
        if estimate is not None:
            estimates.append((index, estimate))
        elif number is not None:
            steps.append((index, data, number))
            run_kind = kind
            in_steps.add(number)
        else:
            results[index] = {"index": index, **_apply_reported(actor, data)[1]}
    if estimates:
        _apply_estimates(actor, estimates, results)
    if steps:
        _apply_run(actor, run_kind, steps, results)
    _past(deadline, len(validated), len(validated))


def _apply_run(actor: Actor, kind: str, run: list, results: list) -> None:
    (_apply_transports if kind == "transports" else _apply_steps)(actor, run, results)


class EventsView(EventsReadView):
    """Read the events you may see, oldest first, with a cursor; report events (one, or a list of up to 1,000)."""

    required_scopes = {"GET": Scope.EVENTS_READ, "POST": Scope.EVENTS_WRITE}

    @extend_schema(
        request=EventReportSerializer(many=True, allow_empty=False, max_length=MAX_BULK),
        responses={
            201: OpenApiTypes.OBJECT,
            200: OpenApiTypes.OBJECT,
            400: OpenApiTypes.OBJECT,
            403: OpenApiTypes.OBJECT,
            409: OpenApiTypes.OBJECT,
        },
        summary="Report events: an object, or a list of up to 1,000 (a result per item)",
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request):
        actor = Actor.from_request(request)
        if isinstance(request.data, list):
            if not request.data:
                raise ValidationError({"non_field_errors": [_("Send at least one event.")]})
            if len(request.data) > MAX_BULK:
                raise ValidationError({"non_field_errors": [_("At most %(n)s events at once.") % {"n": MAX_BULK}]})
            results = events_apply_bulk(actor=actor, items=request.data)
            applied = sum(1 for r in results if r["status"] == 201)
            return Response(
                {"applied": applied, "refused": len(results) - applied, "results": results}, status=status.HTTP_200_OK
            )
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": [_("Send an event object or a list of them.")]})
        code, body = _apply_one(actor, request.data)
        return Response(body, status=code)




class CorrectionSerializer(KnownFieldsOnly, serializers.Serializer):
    event_datetime = serializers.DateTimeField(help_text=_("The right time of the step."))
    reason = serializers.CharField(max_length=250, required=False, default="",
                                   help_text=_("Why the first report was wrong; subscribers see it."))
    confirm = serializers.BooleanField(
        required=False, default=False,
        help_text=_("Record a corrected time that is far from the plan or out of the steps' order (else 409 "
                    "`implausible`)."),
    )


class EventCorrectionView(APIView):
    """Correct the time of a step your organisation reported: a new event that names the one it replaces."""

    required_scopes = {"POST": Scope.EVENTS_WRITE}

    @extend_schema(
        request=CorrectionSerializer,
        responses={201: EventOutSerializer, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT,
                   404: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT},
        parameters=[IDEMPOTENCY_KEY],
        summary="Correct a reported time (the correction supersedes the event)",
    )
    @idempotent
    def post(self, request, event_id):
        actor = Actor.from_request(request)
        event = get_object_or_404(events_visible(actor=actor), event_id=event_id)
        serializer = CorrectionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        correction = event_correct(actor=actor, event=event, at=data["event_datetime"], reason=data["reason"],
                                   confirmed=data["confirm"])
        body = EventOutSerializer(correction, context={"party_kind": actor.kind}).data
        return Response(body, status=status.HTTP_201_CREATED)
