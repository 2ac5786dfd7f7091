"""Writes on single declarations: draft, submit (with risk selection), each agency's decision, the one joint
inspection, release, rejection and amendment as a new version. Each change is one transaction with its event.
"""

import hashlib
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from bookings.models import HOLDS_CAPACITY, Booking, BookingStatus, Container, ContainerStatus
from customs.models import (
    EXPORT_MODES,
    GOODS_LINE_FIELDS,
    IMPORT_MODES,
    MAX_GOODS_LINES,
    Agency,
    Decision,
    DecisionKind,
    Declaration,
    DeclarationStatus,
    GoodsLine,
    Inspection,
    InspectionResult,
    RiskRule,
    RiskRuleKind,
)
from inbound.services import available_record, holds_of
from intermodal.access import Actor
from intermodal.codes import DocumentType, EventType, FacilityKind
from intermodal.errors import InvalidInput, NotAllowed, StateConflict
from intermodal.events import event_record
from intermodal.models import PartyKind, validate_uscc

AGENCY_OF_PARTY = {PartyKind.CUSTOMS: Agency.CUSTOMS, PartyKind.BORDER_INSPECTION: Agency.BORDER_INSPECTION}
WEIGHT_TOLERANCE = Decimal("0.05")  # declared gross weight may differ from the booking's by 5 %


# --- Checks ----------------------------------------------------------------------------------------------


def _require_declarant(actor: Actor, declaration_or_booking) -> None:
    shipper_id = getattr(declaration_or_booking, "shipper_id", None) or getattr(
        declaration_or_booking, "declarant_id", None
    )
    if actor.kind == PartyKind.PLATFORM_ADMIN:
        return
    if actor.kind != PartyKind.ENTERPRISE or getattr(actor.organisation, "pk", None) != shipper_id:
        raise NotAllowed(_("Only the shipper can declare its goods."), code="not_the_declarant")


def _agency(actor: Actor, declaration: Declaration) -> str:
    """The agency the officer decides for; refused unless its office covers the declaration's station."""
    agency = AGENCY_OF_PARTY.get(actor.kind)
    if agency is None:
        raise NotAllowed(_("Only customs and border inspection officers decide on declarations."),
                         code="not_an_officer")
    if not actor.organisation.covered_stations.filter(pk=declaration.station_id).exists():
        raise NotAllowed(
            _("Your office does not cover station %(station)s.") % {"station": declaration.station.code},
            code="not_your_station",
        )
    return agency


def _clean_lines(lines: Iterable[dict]) -> list[GoodsLine]:
    lines = list(lines)
    if len(lines) > MAX_GOODS_LINES:
        message = _("At most %(n)s goods lines in one declaration.") % {"n": MAX_GOODS_LINES}
        raise InvalidInput(errors={"lines": [message]})
    built, errors = [], {}
    for index, data in enumerate(lines):
        line = GoodsLine(line_no=index + 1, **{name: data.get(name, "") for name in GOODS_LINE_FIELDS})
        try:
            # The fields' own checks say what is wrong; the table's constraints (named after the table) stay the
            # database's last word and are not quoted to the declarant.
            line.full_clean(exclude=["declaration"], validate_constraints=False)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors[f"lines.{index}.{name}"] = messages
        built.append(line)
    if not built:
        errors["lines"] = [_("Declare at least one goods line.")]
    if errors:
        raise InvalidInput(errors=errors)
    return built


def _check_containers(booking: Booking, numbers: Iterable[str]) -> None:
    """A declarant may name containers (partner systems do): each must be on the booking. The declaration covers
    every container of the booking whether named or not."""
    numbers = [n.strip().upper() for n in numbers]
    known = set(booking.containers.filter(number__in=numbers, is_active=True).values_list("number", flat=True))
    unknown = sorted(set(numbers) - known)
    if unknown:
        raise InvalidInput(
            errors={
                "containers": [
                    _("Not in booking %(ref)s: %(numbers)s.")
                    % {"ref": booking.reference, "numbers": ", ".join(unknown)}
                ]
            }
        )


def _check_uscc(value: str) -> str:
    try:
        validate_uscc(value)
    except ValidationError as error:
        raise InvalidInput(errors={"declarant_uscc": error.messages}) from None
    return value


def _record(declaration: Declaration, actor: Actor, code: str, reason: str = "", details: dict | None = None):
    event_record(
        event_type=EventType.SHIPMENT,
        event_code=code,
        organisation=actor.organisation,
        user=actor.user,
        document_type=DocumentType.CUS,
        document_reference=declaration.reference,
        booking_reference=declaration.booking.reference,
        facility_kind=FacilityKind.STATION,
        facility_code=declaration.station.code,
        location_unlocode=declaration.station.unlocode,
        reason=reason,
        details={
            "declaration": declaration.reference,
            "version": declaration.version,
            "status": declaration.status,
            **(details or {}),
        },
    )


def _lock(declaration: Declaration) -> Declaration:
    return (
        Declaration.objects.select_for_update(of=("self",))
        .select_related("booking", "station", "declarant")
        .get(pk=declaration.pk)
    )


# --- Draft -----------------------------------------------------------------------------------------------


def declaration_create(
    *,
    actor: Actor,
    booking: Booking,
    trade_mode: str,
    transport_mode: str,
    lines: list[dict],
    containers: Iterable[str] = (),
    declarant_uscc: str = "",
) -> Declaration:
    """A draft declaration for a booking's goods; the declarant is the booking's shipper."""
    _require_declarant(actor, booking)
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("shipper", "departure__service__station")
            .get(pk=booking.pk)
        )
        declarable = (*HOLDS_CAPACITY, BookingStatus.AT_STATION) if booking.is_import else HOLDS_CAPACITY
        if booking.status not in declarable:
            raise StateConflict(_("Declare the goods of a confirmed booking."), code="booking_not_confirmed")
        if transport_mode not in (IMPORT_MODES if booking.is_import else EXPORT_MODES):
            raise InvalidInput(errors={"transport_mode": [
                _("An import comes from the vessel by rail or barge; an export goes by rail or barge to the vessel.")]})
        if booking.declarations.exists():
            raise StateConflict(
                _("Booking %(ref)s already has a declaration: amend that one.") % {"ref": booking.reference},
                code="already_declared",
            )
        # Report every field that is wrong at once, not the first only.
        errors: dict[str, list[str]] = {}
        uscc, goods = "", []
        for check in ("uscc", "lines", "containers"):
            try:
                if check == "uscc":
                    uscc = _check_uscc(declarant_uscc or booking.shipper.uscc)
                elif check == "lines":
                    goods = _clean_lines(lines)
                else:
                    _check_containers(booking, containers)
            except InvalidInput as error:
                errors.update(error.errors)
        if errors:
            raise InvalidInput(errors=errors)
        declaration = Declaration.objects.create(
            reference=f"SD-{booking.reference[3:]}-1",
            booking=booking,
            declarant=booking.shipper,
            declarant_uscc=uscc,
            station=booking.departure.service.station,
            trade_mode=trade_mode,
            transport_mode=transport_mode,
        )
        for line in goods:
            line.declaration = declaration
        GoodsLine.objects.bulk_create(goods)
        _record(declaration, actor, "DRFT")
    return declaration


def declaration_update(
    *,
    actor: Actor,
    declaration: Declaration,
    lines: list[dict] | None = None,
    containers: Iterable[str] | None = None,
    **fields,
) -> Declaration:
    """Change a draft: its modes or goods lines (containers named are checked against the booking)."""
    with transaction.atomic():
        declaration = _lock(declaration)
        _require_declarant(actor, declaration)
        if declaration.status != DeclarationStatus.DRAFT:
            raise StateConflict(
                _("Declaration %(ref)s is %(status)s: only a draft can be changed.")
                % {"ref": declaration.reference, "status": declaration.get_status_display().lower()},
                code="not_draft",
            )
        if "declarant_uscc" in fields:
            fields["declarant_uscc"] = _check_uscc(fields["declarant_uscc"])
        for name, value in fields.items():
            setattr(declaration, name, value)
        if fields:
            declaration.save(update_fields=list(fields))
        if lines is not None:
            goods = _clean_lines(lines)
            declaration.lines.all().delete()
            for line in goods:
                line.declaration = declaration
            GoodsLine.objects.bulk_create(goods)
        if containers is not None:
            _check_containers(declaration.booking, containers)
    return declaration


# --- Risk selection --------------------------------------------------------------------------------------


def _sample(declaration: Declaration, rule: RiskRule) -> float:
    # Deterministic: the same declaration and rule always draw the same number in [0, 1).
    digest = hashlib.sha256(f"{rule.pk}:{declaration.reference}".encode()).hexdigest()
    return int(digest[:8], 16) / 0x100000000


def risk_reason_text(hit: dict) -> str:
    """A risk rule's reason for selecting a declaration, in the active language (as stored when it was decided,
    for reasons recorded before their message was kept)."""
    message = hit.get("message")
    if not message:
        return hit.get("reason", "")
    try:
        return _(message) % hit.get("params", {})
    except (KeyError, TypeError, ValueError):
        return hit.get("reason", "")


def risk_assess(declaration: Declaration, rules: Iterable[RiskRule] | None = None) -> list[dict]:
    """Which active rules select this declaration, and why."""
    rules = list(rules if rules is not None else RiskRule.objects.filter(is_active=True))
    lines = list(declaration.lines.all())
    hits = []
    for rule in rules:
        params = rule.parameters or {}
        reason = None
        if rule.kind == RiskRuleKind.HS_CHAPTER:
            chapters = {str(c).zfill(2) for c in params.get("chapters", [])}
            matched = sorted({line.hs_chapter for line in lines} & chapters)
            if matched:
                reason = (gettext_noop("HS chapter %(chapters)s is on the watch list."),
                          {"chapters": ", ".join(matched)})
        elif rule.kind == RiskRuleKind.VALUE_ABOVE:
            try:
                amount = Decimal(str(params.get("amount", "0")))
            except InvalidOperation:
                continue
            currency = params.get("currency", "USD")
            total = sum((line.value for line in lines if line.currency == currency), Decimal("0"))
            if amount and total > amount:
                reason = (gettext_noop("Declared value %(total)s %(cur)s is above %(amount)s."),
                          {"total": str(total), "cur": currency, "amount": str(amount)})
        elif rule.kind == RiskRuleKind.DANGEROUS_GOODS:
            dangerous = declaration.booking.un_number or next((line.un_number for line in lines if line.un_number), "")
            if dangerous:
                reason = (gettext_noop("Dangerous goods (UN %(un)s)."), {"un": dangerous})
        elif rule.kind == RiskRuleKind.DECLARANT_HISTORY:
            limit = int(params.get("rejections", 1))
            since = timezone.now() - timedelta(days=int(params.get("days", 365)))
            rejected = Declaration.objects.filter(
                declarant=declaration.declarant, status=DeclarationStatus.REJECTED, decided_at__gte=since
            ).count()
            if rejected >= limit:
                reason = (gettext_noop("The declarant had %(n)s rejected declarations recently."), {"n": rejected})
        elif rule.kind == RiskRuleKind.RANDOM:
            rate = float(params.get("rate", 0))
            draw = _sample(declaration, rule)
            if draw < rate:
                reason = (gettext_noop("Random sample (%(draw).3f below the rate %(rate)s)."),
                          {"draw": draw, "rate": rate})
        if reason:
            # The reason in the submitter's language for the API and the history, and its message and values,
            # so that each page says it in its reader's language (risk_reason_text).
            message, values = reason
            hits.append({"rule": rule.name, "kind": rule.kind, "agency": rule.agency,
                         "reason": _(message) % values, "message": message, "params": values})
    return hits


# --- Submission and decisions ----------------------------------------------------------------------------


def declaration_submit(*, actor: Actor, declaration: Declaration) -> Declaration:
    """Submit once to both agencies; risk rules may select it for the joint inspection at once."""
    with transaction.atomic():
        declaration = _lock(declaration)
        _require_declarant(actor, declaration)
        if declaration.status != DeclarationStatus.DRAFT:
            raise StateConflict(
                _("Declaration %(ref)s has been submitted already.") % {"ref": declaration.reference}, code="not_draft"
            )
        booking = declaration.booking
        if not declaration.lines.exists():
            raise InvalidInput(errors={"lines": [_("Declare at least one goods line.")]})
        gross, cargo = declaration.total_gross_kg, booking.cargo_weight_kg
        if abs(gross - cargo) > cargo * WEIGHT_TOLERANCE:
            raise InvalidInput(
                errors={
                    "lines": [
                        _("The goods weigh %(gross)s kg in all; the booking says %(cargo)s kg (5 %% tolerance).")
                        % {"gross": gross, "cargo": cargo}
                    ]
                }
            )
        if booking.un_number and not declaration.lines.filter(un_number=booking.un_number).exists():
            raise InvalidInput(
                errors={
                    "lines": [
                        _("The booking carries UN %(un)s: declare it on its goods line.") % {"un": booking.un_number}
                    ]
                }
            )
        declaration.submitted_at = timezone.now()
        declaration.risk_reasons = risk_assess(declaration)
        declaration.risk_selected = bool(declaration.risk_reasons)
        declaration.status = DeclarationStatus.SUBMITTED
        declaration.save(update_fields=["submitted_at", "risk_reasons", "risk_selected", "status"])
        _record(declaration, actor, "SUBM")
        if declaration.risk_selected:
            agencies = sorted({hit["agency"] for hit in declaration.risk_reasons})
            _require_inspection(
                declaration, actor, agencies, reason="; ".join(h["reason"] for h in declaration.risk_reasons)
            )
    return declaration


def _require_inspection(declaration: Declaration, actor: Actor, agencies: list[str], reason: str) -> None:
    inspection, created = Inspection.objects.get_or_create(
        declaration=declaration, defaults={"requested_by": ",".join(agencies), "place": declaration.station.name}
    )
    if not created:
        asked = set(inspection.requested_by.split(",")) | set(agencies)
        inspection.requested_by = ",".join(sorted(asked))
        inspection.save(update_fields=["requested_by"])
    if declaration.status != DeclarationStatus.INSPECTION_REQUIRED:
        declaration.status = DeclarationStatus.INSPECTION_REQUIRED
        declaration.save(update_fields=["status"])
        _record(declaration, actor, "HOLD", reason=reason)


def _cleared_by_both(declaration: Declaration) -> bool:
    since = declaration.submitted_at
    if hasattr(declaration, "inspection") and declaration.inspection.recorded_at:
        since = declaration.inspection.recorded_at
    cleared = set(declaration.decisions.filter(kind=DecisionKind.CLEAR, at__gte=since).values_list("agency", flat=True))
    return cleared == {Agency.CUSTOMS, Agency.BORDER_INSPECTION}


def declaration_decide(*, actor: Actor, declaration: Declaration, kind: str, reason: str) -> Declaration:
    """One agency's decision: clear, ask for the (joint) inspection, or reject. Release needs both to clear."""
    if not (reason or "").strip():
        raise InvalidInput(errors={"reason": [_("Give the reason for the decision.")]})
    if kind not in DecisionKind.values:
        raise InvalidInput(errors={"decision": [_("Decide clear, inspect or reject.")]})
    with transaction.atomic():
        declaration = _lock(declaration)
        agency = _agency(actor, declaration)
        status = declaration.status
        open_for = {
            DecisionKind.CLEAR: (DeclarationStatus.SUBMITTED, DeclarationStatus.INSPECTED),
            DecisionKind.INSPECT: (DeclarationStatus.SUBMITTED,),
            DecisionKind.REJECT: (
                DeclarationStatus.SUBMITTED,
                DeclarationStatus.INSPECTION_REQUIRED,
                DeclarationStatus.INSPECTED,
            ),
        }[kind]
        if status not in open_for:
            raise StateConflict(
                _("Declaration %(ref)s is %(status)s: it cannot be decided that way now.")
                % {"ref": declaration.reference, "status": declaration.get_status_display().lower()},
                code="illegal_decision",
            )
        since = declaration.submitted_at
        if hasattr(declaration, "inspection") and declaration.inspection.recorded_at:
            since = declaration.inspection.recorded_at
        if (
            kind == DecisionKind.CLEAR
            and declaration.decisions.filter(agency=agency, kind=DecisionKind.CLEAR, at__gte=since).exists()
        ):
            raise StateConflict(_("Your agency has cleared this declaration already."), code="already_decided")
        Decision.objects.create(
            declaration=declaration,
            agency=agency,
            kind=kind,
            reason=reason.strip(),
            officer=actor.user,
            organisation=actor.organisation,
        )
        now = timezone.now()
        if kind == DecisionKind.REJECT:
            declaration.status = DeclarationStatus.REJECTED
            declaration.rejection_reason = reason.strip()
            declaration.decided_at = now
            declaration.save(update_fields=["status", "rejection_reason", "decided_at"])
            _record(declaration, actor, "REJE", reason=reason)
        elif kind == DecisionKind.INSPECT:
            _require_inspection(declaration, actor, [agency], reason=reason)
        elif _cleared_by_both(declaration):
            declaration.status = DeclarationStatus.RELEASED
            declaration.decided_at = declaration.released_at = now
            declaration.save(update_fields=["status", "decided_at", "released_at"])
            _record(declaration, actor, "RELS", reason=reason)
            _imports_available(declaration, actor)
    return declaration


def _imports_available(declaration: Declaration, actor: Actor) -> None:
    """Released inland, an import's containers waiting at the station with no other hold are available for
    pick-up (AVPU)."""
    if not declaration.booking.is_import:
        return
    waiting = (Container.objects.select_for_update(of=("self",)).select_related("booking__departure__service__station")
               .filter(booking=declaration.booking, is_active=True, status=ContainerStatus.AT_STATION)
               .order_by("number"))
    for container in waiting:
        if not holds_of(container, customs_released=True):
            available_record(actor=actor, container=container)


def inspection_schedule(*, actor: Actor, declaration: Declaration, appointment_at, place: str = "") -> Inspection:
    """The one appointment for both agencies at the station."""
    with transaction.atomic():
        declaration = _lock(declaration)
        _agency(actor, declaration)
        if declaration.status != DeclarationStatus.INSPECTION_REQUIRED:
            raise StateConflict(
                _("No inspection is pending for %(ref)s.") % {"ref": declaration.reference}, code="no_inspection"
            )
        if appointment_at is None or appointment_at < timezone.now() - timedelta(hours=1):
            raise InvalidInput(errors={"appointment_at": [_("Give an appointment time from now on.")]})
        inspection = declaration.inspection
        inspection.appointment_at = appointment_at
        inspection.place = place or inspection.place or declaration.station.name
        inspection.save(update_fields=["appointment_at", "place"])
    return inspection


def inspection_record(*, actor: Actor, declaration: Declaration, result: str, findings: str) -> Declaration:
    """The joint inspection's one result: passed -> inspected (both agencies then clear); failed -> rejected."""
    if result not in InspectionResult.values:
        raise InvalidInput(errors={"result": [_("The result is passed or failed.")]})
    if not (findings or "").strip():
        raise InvalidInput(errors={"findings": [_("Write down what the inspection found.")]})
    with transaction.atomic():
        declaration = _lock(declaration)
        agency = _agency(actor, declaration)
        if declaration.status != DeclarationStatus.INSPECTION_REQUIRED:
            raise StateConflict(
                _("No inspection is pending for %(ref)s.") % {"ref": declaration.reference}, code="no_inspection"
            )
        inspection = declaration.inspection
        if inspection.appointment_at is None:
            raise StateConflict(_("Set the inspection appointment first."), code="no_appointment")
        inspection.result, inspection.findings, inspection.recorded_at = result, findings.strip(), timezone.now()
        inspection.save(update_fields=["result", "findings", "recorded_at"])
        if result == InspectionResult.PASSED:
            declaration.status = DeclarationStatus.INSPECTED
            declaration.save(update_fields=["status"])
        else:
            Decision.objects.create(
                declaration=declaration,
                agency=agency,
                kind=DecisionKind.REJECT,
                reason=findings.strip(),
                officer=actor.user,
                organisation=actor.organisation,
            )
            declaration.status = DeclarationStatus.REJECTED
            declaration.rejection_reason = findings.strip()
            declaration.decided_at = timezone.now()
            declaration.save(update_fields=["status", "rejection_reason", "decided_at"])
            _record(declaration, actor, "REJE", reason=findings)
    return declaration


def declaration_amend(*, actor: Actor, declaration: Declaration) -> Declaration:
    """After a rejection the shipper amends: a new draft version, the rejected one kept as it was."""
    with transaction.atomic():
        declaration = _lock(declaration)
        _require_declarant(actor, declaration)
        if declaration.status != DeclarationStatus.REJECTED:
            raise StateConflict(_("Only a rejected declaration is amended."), code="not_rejected")
        if Declaration.objects.filter(previous=declaration).exists():
            raise StateConflict(_("This version has been amended already."), code="already_amended")
        version = declaration.version + 1
        amended = Declaration.objects.create(
            reference=f"SD-{declaration.booking.reference[3:]}-{version}",
            booking=declaration.booking,
            version=version,
            previous=declaration,
            declarant=declaration.declarant,
            declarant_uscc=declaration.declarant_uscc,
            station=declaration.station,
            trade_mode=declaration.trade_mode,
            transport_mode=declaration.transport_mode,
        )
        GoodsLine.objects.bulk_create(
            [
                GoodsLine(
                    declaration=amended,
                    line_no=line.line_no,
                    **{name: getattr(line, name) for name in GOODS_LINE_FIELDS},
                )
                for line in declaration.lines.all()
            ]
        )
        _record(amended, actor, "DRFT", details={"amends": declaration.reference})
    return amended


# --- Pre-release -----------------------------------------------------------------------------------------


def container_released(container: Container) -> bool:
    """Whether the latest version of the declaration of the container's booking is released."""
    latest = Declaration.objects.filter(booking_id=container.booking_id).order_by("-version").first()
    return latest is not None and latest.status == DeclarationStatus.RELEASED


def vessel_loading_customs_check(container: Container, *, released: bool | None = None) -> None:
    """The port loads only containers whose declaration was released inland (pre-release). `released`: customs'
    decision, when the caller read it already (for many containers at once)."""
    if not (container_released(container) if released is None else released):
        raise StateConflict(
            _(
                "Container %(number)s is not released by customs and border inspection: it may not "
                "be loaded on the vessel."
            )
            % {"number": container.number},
            code="not_released",
        )
