"""Reference versions (intermodal/versions.py): what a cached answer is keyed by."""

import secrets

import pytest

from intermodal.versions import forget, versions, versions_and_entries

pytestmark = pytest.mark.django_db


def test_versions_are_read_alike_from_a_list_and_from_a_generator():
    references = [f"VERSION-{secrets.token_hex(4)}".upper() for _ in range(2)]
    never_set = versions(references)
    forget(references)

    from_list = versions(references)
    from_generator = versions(reference for reference in references)
    with_entries = versions_and_entries(iter(references), ["no-such-entry"])

    assert never_set == "0.0"
    assert from_list == from_generator == with_entries[0] != never_set
    assert with_entries[1] == {}
