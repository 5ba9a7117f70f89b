"""The contract-test kit, run on the sample app as a service runs it."""

from __future__ import annotations

from flusk_common.testing import ContractTests


class TestContract(ContractTests):
    """Every generic check, on the sample app's gadgets and widgets."""
