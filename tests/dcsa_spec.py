"""DCSA's OpenAPI files (tests/fixtures/standards/dcsa/) as JSON Schema, to validate what we send and take.

OpenAPI 3.0 schema objects are read as the JSON Schema draft 4 they extend: every `$ref` inlined, `nullable`
translated and the OpenAPI-only keywords dropped, `date-time`, `date` and `uuid` formats checked. `closed()` makes
a copy that allows no property the spec does not name: what we send must be what DCSA defines.
"""

import re
import uuid
from datetime import date, datetime
from pathlib import Path

from jsonschema import Draft4Validator, FormatChecker

from guard.openapi_files import OpenApiFile

DCSA_FILES = Path(__file__).resolve().parent / "fixtures" / "standards" / "dcsa"


class DcsaSpec(OpenApiFile):
    """A DCSA file of tests/fixtures/standards/dcsa/, by name."""

    def __init__(self, path: Path | str):
        super().__init__(Path(path) if Path(path).is_absolute() else DCSA_FILES / path)


def _flat(node: dict) -> dict:
    """Merge `allOf` parts into one object schema (properties and required united)."""
    merged = {key: value for key, value in node.items() if key != "allOf"}
    leftovers = []
    for part in node.get("allOf", []):
        for key, value in _flat(part).items():
            if key == "properties":
                properties = merged.setdefault("properties", {})
                for name, sub in value.items():
                    properties[name] = {"allOf": [properties[name], sub]} if name in properties else sub
            elif key == "required":
                merged["required"] = sorted(set(merged.get("required", [])) | set(value))
            elif key == "description":
                merged.setdefault(key, value)
            elif key not in merged:
                merged[key] = value
            elif merged[key] != value:
                leftovers.append({key: value})
    if leftovers:
        merged["allOf"] = leftovers
    return merged


def closed(node):
    """The schema with no room for properties it does not name."""
    if isinstance(node, list):
        return [closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = _flat(node)
    out = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: closed(sub) for name, sub in value.items()}
        elif key in ("items", "anyOf", "oneOf", "allOf", "not"):
            out[key] = closed(value)
        else:
            out[key] = value
    if out.get("type") == "object" or "properties" in out:
        out["additionalProperties"] = False
    return out


RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    return bool(RFC3339.match(value)) and datetime.fromisoformat(value.replace("Z", "+00:00")) is not None


@FORMATS.checks("date", raises=ValueError)
def _is_date(value) -> bool:
    return not isinstance(value, str) or (len(value) == 10 and date.fromisoformat(value) is not None)


@FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value) -> bool:
    return not isinstance(value, str) or str(uuid.UUID(value)) == value.lower()


def assert_valid(instance, against: dict, what: str = "") -> None:
    errors = sorted(Draft4Validator(against, format_checker=FORMATS).iter_errors(instance), key=str)
    assert not errors, f"{what} does not conform:\n" + "\n".join(
        f"- {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)
