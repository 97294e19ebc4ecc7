"""The settings modals stay within Slack's limits however large the catalogue: options grouped past 100."""

from __future__ import annotations

from aurum.kpis.catalog import load_catalog
from aurum.settings import blocks
from tests.blockkit import VIEW_CAP, assert_valid_blocks, assert_valid_view


def test_past_a_hundred_kpis_the_picker_groups_them_by_category_within_slacks_limits():
    extra = {f"team_metric_{i}": {"name": f"Team metric {i}", "category": "team", "unit": "count",
                                  "direction": "higher", "target": ">1"} for i in range(60)}
    catalog = load_catalog(extra)
    assert len(catalog) > 100
    view = blocks.kpi_modal(catalog)
    assert_valid_view(view)
    assert_valid_blocks(view["blocks"], VIEW_CAP)
    picker = view["blocks"][0]["element"]
    assert "options" not in picker
    shown = [option["value"] for group in picker["option_groups"] for option in group["options"]]
    assert sorted(shown) == sorted(kpi.key for kpi in catalog)
    assert all(len(group["options"]) <= 100 for group in picker["option_groups"])
