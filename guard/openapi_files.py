"""Published OpenAPI files (DCSA's) read as JSON Schema, to check what partners send against the standard itself.

OpenAPI 3.0 schema objects are read as the JSON Schema draft 4 they extend: every `$ref` inlined, `nullable`
translated and the OpenAPI-only keywords dropped. The test suite checks our answers with the same reading
(tests/dcsa_spec.py)."""

import functools
from pathlib import Path

import yaml

# Keywords of the OpenAPI 3.0 schema object that JSON Schema does not have, or that do not validate.
OAS_ONLY = {"nullable", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs", "example", "examples",
            "deprecated"}


class OpenApiFile:
    def __init__(self, path: Path | str):
        self.path = Path(path)

    @functools.cached_property
    def document(self) -> dict:
        return yaml.safe_load(self.path.read_text(encoding="utf-8"))

    def raw(self) -> dict:
        return self.document

    def resolve(self, node, seen: tuple = (), recursive: set | None = None):
        """Inline every `$ref` (the files are self-contained; OpenAPI 3.0 ignores a `$ref`'s siblings). A schema that
        contains itself (DCSA Booking's InnerPackaging) becomes `#/definitions/<name>`, collected in `recursive`."""
        if isinstance(node, list):
            return [self.resolve(item, seen, recursive) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"{self.path.name}: cannot inline {ref}")
            if ref in seen:
                if recursive is None:
                    raise ValueError(f"{self.path.name}: {ref} contains itself")
                recursive.add(ref)
                return {"$ref": f"#/definitions/{ref.rsplit('/', 1)[-1]}"}
            target = self.document
            for part in ref[2:].split("/"):
                target = target[part]
            return self.resolve(target, (*seen, ref), recursive)
        return {key: self.resolve(value, seen, recursive) for key, value in node.items()}

    def _root(self, node) -> dict:
        """`node` inlined, with the definitions its recursive parts refer to."""
        recursive: set[str] = set()
        root = self.resolve(node, (), recursive)
        definitions, done = {}, set()
        while recursive - done:
            ref = sorted(recursive - done)[0]
            done.add(ref)
            definitions[ref.rsplit("/", 1)[-1]] = self.resolve({"$ref": ref}, (), recursive)
        if definitions:
            root = {**root, "definitions": definitions}
        return root

    def schema(self, name: str) -> dict:
        return to_json_schema(self._root({"$ref": f"#/components/schemas/{name}"}))

    def response_schema(self, path: str, method: str = "get", status: str = "200", *, item: bool = False) -> dict:
        body = self.document["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
        return to_json_schema(self._root(body["items"] if item else body))

    def request_schema(self, path: str, method: str = "post") -> dict:
        body = self.document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        return to_json_schema(self._root(body))

    def response_headers(self, path: str, method: str = "get", status: str = "200") -> dict:
        return self.resolve(self.document["paths"][path][method]["responses"][status]).get("headers", {})


def to_json_schema(node):
    """OpenAPI 3.0 schema object -> JSON Schema draft 4. `nullable: true` allows null. A `discriminator` only
    tells which `oneOf` branch to try: `oneOf` alone picks the same branch where each branch pins its kind."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in OAS_ONLY:
            continue
        if key == "properties":
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        else:
            out[key] = to_json_schema(value)
    if node.get("nullable") is True:
        out = {"anyOf": [out, {"type": "null"}]}
    return out
