"""The one text policy for every input, and the one way a stored value is made safe for a file (docs/SECURITY.md,
"Text policy"). The API (intermodal.api.InputPolicy), query strings (intermodal.query_parameters), URL paths
(intermodal.security.PathPolicyMiddleware) and the pages' forms (intermodal.forms.InputPolicyForm) all ask here.

- Leading and trailing whitespace is removed from every text and code (Python's `str.strip`, as Django's forms
  and DRF do), before anything else is checked.
- Text may hold no NUL, no lone surrogate and no other control character (Unicode Cc: C0, DEL, C1); text a
  person writes on several lines (an address, findings) may hold tab and line breaks.
- Codes (container numbers, HS codes, UN/LOCODEs, USCC, seals, UN numbers, ...) are normalised: NFKC (full-width
  and other compatibility forms become ASCII), upper case, spaces and hyphens removed; then validated, ASCII only.
- Numbers are JSON numbers or ASCII digit strings, never `true`, never other scripts' digits.
"""

import re
import unicodedata
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# C0 controls, DEL, C1 controls (Unicode category Cc), and the surrogate block (Cs: never a character on its own).
_FORBIDDEN_SINGLE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_FORBIDDEN_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# What a code may be typed with that is not part of it: any space (NFKC has made U+3000 a plain space) and the
# hyphens and dashes people and scanners put between the parts.
_CODE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d]+")
# A number sent as text: ASCII digits, an optional sign, point and exponent (DRF and Django read the rest).
_ASCII_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)

FORBIDDEN_MESSAGE = _("Remove %(chars)s: text here may not hold NUL, control characters or lone surrogates%(hint)s.")
MULTI_LINE_HINT = _(" (tab and line breaks are allowed)")
NUMBER_MESSAGE = _("Give a number: a JSON number or ASCII digits, e.g. 1200 or 18.5.")
DATETIME_RANGE_MESSAGE = _("This date or time is out of range: give one from 0001-01-02 to 9999-12-30 (UTC).")

# What an export writes in place of a character a file format cannot hold (openpyxl refuses C0 controls, PDF
# fonts have no glyph for them): the Unicode replacement character, so the cell still shows that one was there.
REPLACEMENT = "\ufffd"
_NOT_IN_A_FILE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_ON_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def forbidden_characters(value: str, *, multiline: bool = False) -> list[str]:
    """The characters of `value` the policy refuses, each once, in order."""
    pattern = _FORBIDDEN_MULTI_LINE if multiline else _FORBIDDEN_SINGLE_LINE
    return list(dict.fromkeys(pattern.findall(value)))


def describe(chars: list[str]) -> str:
    """`U+0000, U+001B`: how a message names characters it cannot show."""
    return ", ".join(f"U+{ord(c):04X}" for c in chars[:5])


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """The message for a text the policy refuses, or None."""
    chars = forbidden_characters(value, multiline=multiline)
    if not chars:
        return None
    return str(FORBIDDEN_MESSAGE % {"chars": describe(chars), "hint": MULTI_LINE_HINT if multiline else ""})


def normalise_code(value):
    """A code as the platform stores it: NFKC, upper case, no spaces or hyphens. Anything but text is returned
    as it is (the field then says what it wanted)."""
    if not isinstance(value, str):
        return value
    return _CODE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value)).upper()


def normalise_reference(value):
    """A reference or code that may hold hyphens and lower case (a booking BK-2026-000123, a station YIWU-W, a
    departure's slug): NFKC, so full-width text typed on a Chinese keyboard names the same object, and trimmed.
    Anything but text is returned as it is."""
    if not isinstance(value, str):
        return value
    return unicodedata.normalize("NFKC", value).strip()


def is_ascii_number(value) -> bool:
    """A JSON number (not a boolean) or text of ASCII digits; surrounding whitespace is trimmed first."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and _ASCII_NUMBER.fullmatch(value.strip()) is not None


def datetime_problem(value) -> str | None:
    """A date-time must be one PostgreSQL and Python can hold in UTC and in the platform's time zones: a day's
    margin at either end, so no conversion of it overflows (0001-01-01 in Shanghai is a day before year 1)."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        return None
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        return str(DATETIME_RANGE_MESSAGE)
    if not (datetime(1, 1, 2, tzinfo=UTC) <= utc <= datetime(9999, 12, 30, tzinfo=UTC)):
        return str(DATETIME_RANGE_MESSAGE)
    return None


def json_problems(value, path: str = "") -> dict[str, list[str]]:
    """The policy over free JSON (a body parsed by hand, a free object): every key and every text at any depth,
    single-line, as {"dotted.path": [message]}."""
    problems: dict[str, list[str]] = {}

    def walk(item, where: str) -> None:
        if isinstance(item, dict):
            for key, sub in item.items():
                here = f"{where}.{key}" if where else str(key)
                problem = text_problem(str(key))
                if problem:
                    problems.setdefault(where or "body", []).append(problem)
                else:
                    walk(sub, here)
        elif isinstance(item, list):
            for index, sub in enumerate(item):
                walk(sub, f"{where}.{index}" if where else str(index))
        elif isinstance(item, str):
            problem = text_problem(item.strip())
            if problem:
                problems.setdefault(where or "body", []).append(problem)

    walk(value, path)
    return problems


@deconstructible
class TextValidator:
    """The policy's character check as a Django validator (forms, models)."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value):
        if isinstance(value, str):
            problem = text_problem(value, multiline=self.multiline)
            if problem:
                raise ValidationError(problem, code="forbidden_character")

    def __eq__(self, other):
        return isinstance(other, TextValidator) and other.multiline == self.multiline


def validate_ascii_code(value: str) -> None:
    """A code that NFKC left with other scripts' letters or digits is refused, whatever its own check says."""
    if isinstance(value, str) and not value.isascii():
        raise ValidationError(_("Use Latin letters and ASCII digits only."), code="not_ascii")


def export_text(value: str, *, multiline: bool = True) -> str:
    """A stored text as a file can hold it: characters no file format takes replaced by U+FFFD (line breaks
    and tabs kept where the format has them, i.e. CSV and spreadsheet cells; not on a PDF's line)."""
    pattern = _NOT_IN_A_FILE if multiline else _NOT_ON_A_LINE
    return pattern.sub(REPLACEMENT, value)
