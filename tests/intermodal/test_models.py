"""Parties: organisations carry valid identifiers."""

import pytest
from django.core.exceptions import ValidationError

from intermodal.models import PartyKind
from tests import factories

pytestmark = pytest.mark.django_db


def test_organisation_uscc_is_validated():
    org = factories.organisation(PartyKind.ENTERPRISE, uscc="91330782MA28C0XX0X")

    with pytest.raises(ValidationError) as error:
        org.full_clean()

    assert "uscc" in error.value.message_dict


def test_a_valid_uscc_passes():
    org = factories.organisation(PartyKind.ENTERPRISE, uscc="91110000600037341L")

    org.full_clean()  # raises on an invalid code

    assert org.uscc == "91110000600037341L"
