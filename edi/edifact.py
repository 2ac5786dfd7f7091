"""UN/EDIFACT interchanges, read and written with pydifact: the envelope (UNA, UNB ... UNZ), the directory we
implement (D.95B) and the date/time formats. No segment is joined by hand: the library escapes, counts the
segments of UNT and the messages of UNZ.

Times in DTM segments are format 203 (CCYYMMDDHHMM) in the network's time zone (China Standard Time, UTC+8),
as the terminals and stations of the network write them; format 303 (CCYYMMDDHHMM and a zone such as +08 or
UTC) is read too.
"""

import re
import secrets
import unicodedata
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext as _
from pydifact.control import Characters
from pydifact.exceptions import MissingImplementationWarning
from pydifact.segmentcollection import Interchange, Message
from pydifact.segments import Segment

# The directory (UNH S009: version D, release 95B, agency UN) of every message we read and write.
VERSION, RELEASE, AGENCY = "D", "95B", "UN"
DIRECTORY = "D.95B"
# Syntax level C (ISO 8859-1), version 3: the UNB of D.95B-era terminal systems.
SYNTAX = ("UNOC", 3)
# The service string advice: component ':', element '+', decimal point '.', release '?', segment "'".
CHARACTERS = ":+.? '"
MEDIA_TYPE = "application/edifact"
# Code list responsible agency 'ZZZ': mutually defined (our codes, documented in docs/INTEROPERABILITY.md).
MUTUALLY_DEFINED = "ZZZ"


class EdifactError(ValueError):
    """Input that is not an interchange we can read: `errors` per place ({"UNB": [...], "message 2.BGM": [...]})."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def network_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def edifact_datetime(moment: datetime) -> str:
    """Format 203 (CCYYMMDDHHMM), in the network's zone."""
    return moment.astimezone(network_zone()).strftime("%Y%m%d%H%M")


_ZONE = re.compile(r"^(UTC|GMT|Z|[+-]\d{2}(\d{2})?)$")


def parse_edifact_datetime(value: str, fmt: str) -> datetime:
    """A DTM's date/time of format 203 (network time) or 303 (with a zone: UTC, +08, +0800); ValueError else."""
    if fmt == "203":
        if not re.fullmatch(r"\d{12}", value):
            raise ValueError(value)
        return datetime.strptime(value, "%Y%m%d%H%M").replace(tzinfo=network_zone())
    if fmt == "303":
        stamp, zone = value[:12], value[12:]
        if not re.fullmatch(r"\d{12}", stamp) or not _ZONE.match(zone):
            raise ValueError(value)
        if zone in ("UTC", "GMT", "Z"):
            tz = UTC
        else:
            hours, minutes = int(zone[1:3]), int(zone[3:5] or 0)
            offset = timedelta(hours=hours, minutes=minutes)
            tz = timezone(-offset if zone[0] == "-" else offset)
        return datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=tz)
    raise ValueError(fmt)


def ascii_text(text: str, length: int) -> str:
    """Free text in what every syntax level carries: Latin letters without their accents, nothing else."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()[:length]


def control_reference_new() -> str:
    """An interchange control reference (0020, an..14), unique for our interchanges."""
    return secrets.token_hex(7).upper()


def interchange_new(*, recipient: str, control_reference: str | None = None,
                    moment: datetime | None = None) -> Interchange:
    """An empty interchange from the platform to `recipient` (an..35), with the service string advice."""
    stamp = (moment or datetime.now(UTC)).astimezone(network_zone()).replace(tzinfo=None)
    interchange = Interchange(
        sender=[settings.EDI_SENDER_ID[:35], MUTUALLY_DEFINED],
        recipient=[recipient[:35], MUTUALLY_DEFINED],
        control_reference=control_reference or control_reference_new(),
        syntax_identifier=SYNTAX,
        timestamp=stamp,
        characters=Characters.from_str(CHARACTERS),
    )
    interchange.has_una_segment = True
    return interchange


def message_new(reference: str, message_type: str) -> Message:
    return Message(reference, [message_type, VERSION, RELEASE, AGENCY])


def segment(tag: str, *elements) -> Segment:
    """A segment; None elements become empty ones and trailing empty ones are left out."""
    values = [("" if e is None else e) for e in elements]
    while values and values[-1] in ("", []):
        values.pop()
    return Segment(tag, *values)


def serialize(interchange: Interchange) -> str:
    return interchange.serialize()


def parse(text: str) -> Interchange:
    """The interchange in `text`; EdifactError naming what is wrong. Every failure of the library on input that
    is not EDIFACT is a refusal here, never a server error."""
    if not text or not text.strip():
        raise EdifactError({"interchange": [_("The body is empty: send one UN/EDIFACT interchange.")]})
    stripped = text.lstrip("\ufeff").strip()
    if not stripped.startswith(("UNA", "UNB")):
        raise EdifactError({"interchange": [_("This is not a UN/EDIFACT interchange: it must begin with UNA or UNB.")]})
    try:
        with warnings.catch_warnings():
            # pydifact ships no D.95B segment tables: it says so for every segment it cannot check.
            warnings.simplefilter("ignore", MissingImplementationWarning)
            interchange = Interchange.from_str(stripped)
            messages = list(interchange.get_messages())
    except Exception as error:  # noqa: BLE001 - any failure of the parser on this input is the input's fault
        raise EdifactError({"interchange": [_("The interchange cannot be read: %(error)s") % {
            "error": str(error)[:300] or type(error).__name__}]}) from None
    interchange.parsed_messages = messages
    return interchange


def element(seg: Segment, index: int, component: int = 0) -> str:
    """An element's (or a composite's component's) value, "" when absent."""
    if index >= len(seg.elements):
        return ""
    value = seg.elements[index]
    if isinstance(value, list):
        return value[component] if component < len(value) else ""
    return value if component == 0 else ""


def components(seg: Segment, index: int) -> list[str]:
    if index >= len(seg.elements):
        return []
    value = seg.elements[index]
    return list(value) if isinstance(value, list) else [value]


@dataclass(frozen=True)
class Party:
    """An interchange's sender or recipient (UNB S002/S003: identification and its code qualifier)."""

    identification: str

    @classmethod
    def of(cls, value) -> "Party":
        return cls(identification=(value[0] if isinstance(value, list) and value else value or "") or "")
