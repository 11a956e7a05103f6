"""Who may call the API: key parsing and plan checks."""

from __future__ import annotations

import pytest

from sandbox.access import bearer_key, check_plan
from sandbox.errors import CloningRequiresPaidPlan, PublicApiRequiresScale
from sandbox.models import Plan


class TestBearerKey:
    @pytest.mark.parametrize(
        ("header", "key"),
        [
            ("Bearer vk_test_sandbox", "vk_test_sandbox"),
            ("bearer vk_live_abc", "vk_live_abc"),
            ("Bearer ", None),
            ("Basic dXNlcjpwYXNz", None),
            ("vk_test_sandbox", None),
            ("", None),
            (None, None),
        ],
    )
    def test_reads_only_bearer_keys(self, header: str | None, key: str | None) -> None:
        """Only `Bearer <key>` names a key; anything else is no key at all."""
        assert bearer_key(header) == key


class TestCheckPlan:
    def test_scale_may_do_everything(self) -> None:
        """A Scale workspace passes both checks."""
        check_plan(Plan.SCALE, cloning=False)
        check_plan(Plan.SCALE, cloning=True)

    @pytest.mark.parametrize("plan", [Plan.FREE, Plan.PRO])
    def test_the_public_api_needs_scale(self, plan: Plan) -> None:
        """Free and Pro workspaces get 403 public_api_requires_scale."""
        with pytest.raises(PublicApiRequiresScale):
            check_plan(plan, cloning=False)

    def test_cloning_refuses_free_first(self) -> None:
        """A Free workspace asking to clone hears that cloning needs a paid plan."""
        with pytest.raises(CloningRequiresPaidPlan):
            check_plan(Plan.FREE, cloning=True)

    def test_cloning_on_pro_still_needs_scale_for_the_api(self) -> None:
        """A Pro workspace may clone, but not through the public API."""
        with pytest.raises(PublicApiRequiresScale):
            check_plan(Plan.PRO, cloning=True)
