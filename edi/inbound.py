"""CODECO (gate-in and gate-out reports) and COARRI (loading and discharge reports), D.95B, from terminal, station
and rail systems: each container of each message becomes one reported event, applied through the journey's
services exactly as POST /api/v1/events/ applies a list (journey.api.events_apply_bulk), so the same checks say
who may report what, where and when.

Each container's report is named with an id made of the interchange's sender and control reference, the
message reference and the container number (`external_id`): an interchange sent again applies nothing twice
and answers as the first time. An interchange that cannot be read - not EDIFACT, another message type or
directory, a segment missing - is refused whole (a 400 naming the place), and nothing of it is applied.

The answer: per message, what became of each container, as JSON or as an APERAK interchange (edi.aperak).
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from bookings.models import Container as BookedContainer
from bookings.models import EmptyRequest, EmptyRequestStatus
from bookings.selectors import booking_list
from edi.edifact import EdifactError, components, element, parse, parse_edifact_datetime
from intermodal.access import Actor
from intermodal.api import _flatten
from journey.api import MAX_BULK, events_apply_bulk
from stations.models import Departure, Direction, VesselCall

MESSAGE_TYPES = ("CODECO", "COARRI")
# BGM 1001 (document name code) -> our event code, per message type.
DOCUMENT_CODES = {
    "CODECO": {"34": "GTIN", "36": "GTOT"},  # gate-in report, gate-out report
    "COARRI": {"46": "LOAD", "44": "DISC"},  # loading report, discharge report
}
# BGM 1225 message function: only originals are applied.
ORIGINAL = "9"
# EQD 8169 full/empty indicator.
EMPTY, FULL = "4", "5"
# DTM 2005 qualifiers of the moment a container was handled: 203 execution, 7 effective date/time.
EVENT_TIME_QUALIFIERS = ("203", "7")
# VGM: MEA+AAE+VGM+KGM:<kg>; its SOLAS method as FTX+ZZZ++SM1 (or SM2); its signatory as NAD+SPC+++<name>.
VGM_METHODS = {"SM1": 1, "SM2": 2}
NOT_SUPPORTED = "not_supported"


@dataclass
class Container:
    number: str
    full_empty: str
    at: object = None
    seal: str = ""
    vgm_kg: str = ""
    vgm_method: int | None = None
    vgm_signatory: str = ""
    booking: str = ""
    size_type: str = ""


@dataclass
class ParsedMessage:
    reference: str
    message_type: str
    document_code: str
    document_number: str
    event_code: str
    transport: str = ""
    containers: list[Container] = field(default_factory=list)


@dataclass
class ParsedInterchange:
    sender: str
    recipient: str
    control_reference: str
    messages: list[ParsedMessage]


def _place(message_reference: str, tag: str) -> str:
    return f"message {message_reference}.{tag}"


def _transport_of(tdt) -> tuple[str, str]:
    """(conveyance reference 8028, IMO number of the vessel from C222 with code list 146) of a TDT."""
    return element(tdt, 1), element(tdt, 7) if element(tdt, 7, 1) in ("146", "") else ""


def _read_message(message, errors: dict[str, list[str]]) -> ParsedMessage | None:
    reference = message.reference_number or "?"
    identifier = list(message.identifier)
    message_type = identifier[0] if identifier else ""
    if message_type not in MESSAGE_TYPES:
        errors.setdefault(_place(reference, "UNH"), []).append(
            _("%(type)s messages are not read here: send CODECO or COARRI.") % {"type": message_type or "?"})
        return None
    if identifier[1:3] != ["D", "95B"]:
        errors.setdefault(_place(reference, "UNH"), []).append(
            _("This interface reads directory D.95B (UNH %(type)s:D:95B:UN), not %(version)s.")
            % {"type": message_type, "version": ":".join(identifier[1:4])})
        return None
    bgm = message.get_segment("BGM")
    if bgm is None:
        errors.setdefault(_place(reference, "BGM"), []).append(_("The BGM segment is missing."))
        return None
    document_code, document_number, function = element(bgm, 0), element(bgm, 1), element(bgm, 2) or ORIGINAL
    codes = DOCUMENT_CODES[message_type]
    if document_code not in codes:
        errors.setdefault(_place(reference, "BGM"), []).append(
            _("Document code %(code)s is not read for %(type)s: use %(allowed)s.")
            % {"code": document_code or "?", "type": message_type, "allowed": ", ".join(
                f"{code} ({event})" for code, event in codes.items())})
        return None
    if function != ORIGINAL:
        errors.setdefault(_place(reference, "BGM"), []).append(
            _("Message function %(function)s is not applied: only originals (9). Correct a reported time with "
              "POST /api/v1/events/{event_id}/correction.") % {"function": function})
        return None
    parsed = ParsedMessage(reference=reference, message_type=message_type, document_code=document_code,
                           document_number=document_number, event_code=codes[document_code])
    current: Container | None = None
    message_booking = ""
    for seg in message.segments:
        tag = seg.tag
        if tag == "EQD":
            current = _read_equipment(seg, reference, errors)
            if current is not None:
                current.booking = message_booking
                parsed.containers.append(current)
            continue
        if tag == "CNT":
            current = None
            continue
        if current is None:
            if tag == "TDT" and not parsed.transport:
                parsed.transport = _transport_of(seg)
            elif tag == "RFF" and element(seg, 0) == "BN":
                message_booking = element(seg, 0, 1)
            continue
        _read_equipment_detail(seg, current, reference, errors)
    if not parsed.containers and not errors:
        errors.setdefault(_place(reference, "EQD"), []).append(_("The message names no container (EQD+CN)."))
    for container in parsed.containers:
        if container.at is None:
            errors.setdefault(_place(reference, f"EQD {container.number}.DTM"), []).append(
                _("Give the time it happened: DTM+203:<CCYYMMDDHHMM>:203 (China Standard Time)."))
    return parsed


def _read_equipment(seg, reference: str, errors) -> Container | None:
    if element(seg, 0) != "CN":
        errors.setdefault(_place(reference, "EQD"), []).append(
            _("Only containers are read (EQD+CN), not %(kind)s.") % {"kind": element(seg, 0) or "?"})
        return None
    number = "".join(element(seg, 1).split()).upper()
    if not number:
        errors.setdefault(_place(reference, "EQD"), []).append(_("The container number is missing."))
        return None
    full_empty = element(seg, 5)
    if full_empty not in (EMPTY, FULL):
        errors.setdefault(_place(reference, f"EQD {number}"), []).append(
            _("Say whether the container is full (5) or empty (4): the sixth element of EQD."))
        return None
    size_type = element(seg, 2) if element(seg, 2, 1) in ("102", "") else ""
    return Container(number=number, full_empty=full_empty, size_type=size_type)


def _read_equipment_detail(seg, container: Container, reference: str, errors) -> None:
    tag = seg.tag
    place = _place(reference, f"EQD {container.number}.{tag}")
    if tag == "DTM" and element(seg, 0) in EVENT_TIME_QUALIFIERS:
        try:
            container.at = parse_edifact_datetime(element(seg, 0, 1), element(seg, 0, 2) or "203")
        except ValueError:
            errors.setdefault(place, []).append(
                _("%(value)s is not a date and time of format 203 (CCYYMMDDHHMM) or 303 (with a zone).")
                % {"value": ":".join(components(seg, 0)[1:]) or "?"})
    elif tag == "SEL":
        container.seal = element(seg, 0)
    elif tag == "MEA" and element(seg, 0) == "AAE" and element(seg, 1) == "VGM":
        unit, value = element(seg, 2, 0), element(seg, 2, 1)
        try:
            kg = Decimal(value)
        except InvalidOperation:
            kg = None
        if unit != "KGM" or kg is None or not kg.is_finite():
            errors.setdefault(place, []).append(_("Give the VGM in kilograms: MEA+AAE+VGM+KGM:<kg>."))
        else:
            container.vgm_kg = str(kg)
    elif tag == "FTX" and element(seg, 0) == "ZZZ" and element(seg, 2) in VGM_METHODS:
        container.vgm_method = VGM_METHODS[element(seg, 2)]
    elif tag == "NAD" and element(seg, 0) == "SPC":
        container.vgm_signatory = element(seg, 3)
    elif tag == "RFF" and element(seg, 0) == "BN":
        container.booking = element(seg, 0, 1)


def interchange_read(text: str) -> ParsedInterchange:
    """The interchange's CODECO and COARRI messages; ValidationError naming every place that is wrong."""
    try:
        interchange = parse(text)
    except EdifactError as error:
        raise ValidationError(error.errors) from None
    errors: dict[str, list[str]] = {}
    sender = element_of(interchange.sender)
    control = str(interchange.control_reference or "")
    if not sender:
        errors.setdefault("UNB", []).append(_("The interchange names no sender (UNB S002)."))
    if not control:
        errors.setdefault("UNB", []).append(_("The interchange has no control reference (UNB 0020)."))
    messages = [m for m in (_read_message(message, errors) for message in interchange.parsed_messages) if m]
    if not interchange.parsed_messages:
        errors.setdefault("interchange", []).append(_("The interchange holds no message (UNH ... UNT)."))
    references = [m.reference for m in messages]
    if len(set(references)) != len(references):
        errors.setdefault("UNH", []).append(_("Each message of an interchange needs its own reference (UNH 0062)."))
    if sum(len(m.containers) for m in messages) > MAX_BULK:
        errors.setdefault("interchange", []).append(
            _("At most %(n)s containers in one interchange.") % {"n": MAX_BULK})
    if errors:
        raise ValidationError(dict(list(errors.items())[:100]))
    return ParsedInterchange(sender=sender, recipient=element_of(interchange.recipient), control_reference=control,
                             messages=messages)


def element_of(value) -> str:
    return str(value[0] if isinstance(value, list) and value else value or "")


# --- Applying -------------------------------------------------------------------------------------------


def _transport_reference(transport: tuple[str, str] | str) -> str:
    """Our departure or vessel call reference for a TDT: its conveyance reference when that is one, else the
    vessel call of the IMO number and voyage; else the conveyance reference as sent (the journey names it)."""
    if not transport:
        return ""
    conveyance, imo = transport
    if not conveyance:
        return ""
    if Departure.objects.filter(reference=conveyance).exists() or VesselCall.objects.filter(
            reference=conveyance).exists():
        return conveyance
    if imo:
        call = VesselCall.objects.filter(imo_number=imo, voyage=conveyance).values_list("reference", flat=True).first()
        if call:
            return call
    return conveyance


def _empty_request(actor: Actor, container: Container) -> int | None:
    """The open empty container request of the booking a gate-out names (RFF+BN), for its size-type."""
    if not container.booking:
        return None
    requests = EmptyRequest.objects.filter(
        booking__in=booking_list(actor=actor), booking__reference=container.booking,
        status__in=[EmptyRequestStatus.REQUESTED, EmptyRequestStatus.READY])
    if container.size_type:
        requests = requests.filter(size_type=container.size_type)
    return requests.order_by("id").values_list("pk", flat=True).first()


def _unsupported(message: ParsedMessage, container: Container) -> str | None:
    """An empty's gate-in (returned) and a full container's gate-out (delivered to the consignee) are import steps:
    refused for a container that travels on no import booking."""
    empty_in = message.event_code == "GTIN" and container.full_empty == EMPTY
    full_out = message.event_code == "GTOT" and container.full_empty == FULL
    if (empty_in or full_out) and not BookedContainer.objects.filter(
            number=container.number, is_active=True, booking__direction=Direction.IMPORT).exists():
        if empty_in:
            return _("An empty container's gate-in is an import's empty returned: %(number)s is on no import "
                     "booking.") % {"number": container.number}
        return _("A full container's gate-out is an import's delivery to the consignee: %(number)s is on no import "
                 "booking.") % {"number": container.number}
    return None


def external_id(interchange: ParsedInterchange, message: ParsedMessage, container: Container) -> str:
    return f"edifact:{interchange.sender}:{interchange.control_reference}:{message.reference}:{container.number}"[:100]


def _item(actor: Actor, interchange: ParsedInterchange, message: ParsedMessage, container: Container,
          transport: str, confirm: bool) -> dict:
    item = {
        "event_type": "EQUIPMENT",
        "event_code": message.event_code,
        "equipment_reference": container.number,
        "event_datetime": container.at.isoformat(),
        "external_id": external_id(interchange, message, container),
        "confirm": confirm,
    }
    if message.event_code == "LOAD" and transport:
        item["transport_reference"] = transport
    if message.event_code == "GTIN":
        for name, value in (("seal_number", container.seal), ("vgm_kg", container.vgm_kg),
                            ("vgm_method", container.vgm_method), ("vgm_signatory", container.vgm_signatory)):
            if value:
                item[name] = value
    if message.event_code == "GTOT":
        request = _empty_request(actor, container)
        if request is not None:
            item["empty_request"] = request
    return item


def interchange_apply(*, actor: Actor, interchange: ParsedInterchange, confirm: bool = False) -> dict:
    """Apply every container of every message in one list (journey.api.events_apply_bulk: one transaction, a
    result per container); the answer per message."""
    items: list[dict] = []
    places: list[tuple[int, int]] = []  # (message index, container index) of each item
    outcomes: dict[tuple[int, int], dict] = {}
    for m, message in enumerate(interchange.messages):
        transport = _transport_reference(message.transport) if message.event_code == "LOAD" else ""
        for c, container in enumerate(message.containers):
            refusal = _unsupported(message, container)
            if refusal:
                outcomes[(m, c)] = {"status": 422, "code": NOT_SUPPORTED, "detail": refusal, "errors": {}}
                continue
            items.append(_item(actor, interchange, message, container, transport, confirm))
            places.append((m, c))
    if items:
        try:
            results = events_apply_bulk(actor=actor, items=items)
        except ValidationError as error:
            raise ValidationError(_renamed(error.detail, interchange, places)) from None
        for place, result in zip(places, results, strict=True):
            outcomes[place] = {k: v for k, v in result.items() if k != "index"}
    return _answer(interchange, outcomes)


def _renamed(detail, interchange: ParsedInterchange, places: list[tuple[int, int]]) -> dict:
    """`<index>.<field>` of the list as `message <ref>.EQD <container>.<field>`."""
    renamed: dict[str, list[str]] = {}
    for key, messages in _flatten(detail).items():
        index, _dot, rest = key.partition(".")
        if index.isdigit() and int(index) < len(places):
            m, c = places[int(index)]
            message = interchange.messages[m]
            key = _place(message.reference, f"EQD {message.containers[c].number}") + (f".{rest}" if rest else "")
        renamed.setdefault(key, []).extend(messages)
    return renamed


def _answer(interchange: ParsedInterchange, outcomes: dict[tuple[int, int], dict]) -> dict:
    messages = []
    for m, message in enumerate(interchange.messages):
        containers = [{"equipment_reference": container.number, **outcomes[(m, c)]}
                      for c, container in enumerate(message.containers)]
        applied = sum(1 for c in containers if c["status"] == 201)
        result = "accepted" if applied == len(containers) else "refused" if applied == 0 else "partly_accepted"
        messages.append({
            "message_reference": message.reference,
            "message_type": message.message_type,
            "document_code": message.document_code,
            "document_number": message.document_number,
            "event_code": message.event_code,
            "result": result,
            "applied": applied,
            "refused": len(containers) - applied,
            "containers": containers,
        })
    return {"directory": "D.95B", "sender": interchange.sender, "control_reference": interchange.control_reference,
            "messages": messages}
