"""The credit estimate."""

from __future__ import annotations

import pytest

from sandbox.credits import estimate_credits


class TestEstimateCredits:
    @pytest.mark.parametrize(
        ("length", "credits"), [(1, 1), (13, 1), (100, 1), (101, 2), (250, 3), (5000, 50)]
    )
    def test_one_credit_per_started_hundred_characters(self, length: int, credits: int) -> None:
        """The estimate grows with the script: ceil(characters / 100), at least 1."""
        assert estimate_credits("x" * length) == credits

    def test_the_contract_example_costs_one(self) -> None:
        """`Hello, world!` is estimated at 1 credit, as in the contract's example."""
        assert estimate_credits("Hello, world!") == 1
