"""Flusk's generic HTTP contract for every endpoint, from flusk_common."""

from flusk_common.testing import ContractTests


class TestContract(ContractTests):
    pass
