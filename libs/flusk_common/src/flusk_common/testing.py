"""What a service's tests import: assertions, and the contract-test kit.

``from flusk_common.testing import ContractTests, assert_problem, error_pointers``; the
fixtures (``client``, ``make_app``, ``db_session``, ...) come from the pytest plugin.
"""

from ._assertions import assert_problem, error_pointers, parse_time, send_raw
from ._contract import ContractTests, assert_matches
from ._database import get_database

__all__ = [
    "ContractTests",
    "assert_matches",
    "assert_problem",
    "error_pointers",
    "get_database",
    "parse_time",
    "send_raw",
]
