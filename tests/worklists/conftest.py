"""The import corridor (tests/imports/conftest.py) for the import items of the work queues."""

from tests.imports.conftest import corridor  # noqa: F401 - the fixture
