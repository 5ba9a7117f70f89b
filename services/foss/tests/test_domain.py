"""foss's domain rules, without HTTP."""

from __future__ import annotations

import pytest

from foss.domain import canonical_email


@pytest.mark.parametrize(
    ("email", "canonical"),
    [
        ("Ada@Example.ORG", "ada@example.org"),
        ("ade\u0301@x.org", "ad\u00e9@x.org"),
        ("a@\uff45xample.org", "a@example.org"),
        ("a@XN--BCHER-KVA.de", "a@b\u00fccher.de"),
        ("A@B\u00dcCHER.de", "a@b\u00fccher.de"),
    ],
)
def test_canonical_email(email: str, canonical: str) -> None:
    assert canonical_email(email) == canonical
