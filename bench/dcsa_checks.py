"""A Schemathesis check for DCSA's own files, used by tests/security/test_fuzz.py and by bench/fuzz.sh
(`SCHEMATHESIS_HOOKS=bench.dcsa_checks`)."""

import schemathesis
from schemathesis import checks


@schemathesis.check
def status_code_conformance_within_the_url_limit(ctx, response, case):
    """DCSA's files list no 414: a URL longer than the web server takes (a request line of 8,190 bytes, gunicorn's
    most) is refused before any view sees it - a cursor of 1,024 characters of four-byte UTF-8 is 12 KB once
    encoded. Every other status must be one the file documents."""
    if response.status_code == 414:
        return None
    return checks.status_code_conformance(ctx, response, case)
