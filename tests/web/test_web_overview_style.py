"""The overview draws with the release's colour-blind-safe ramp and shows money as the release does (万元)."""

from __future__ import annotations

import json
import re

import pytest

from anju.release.model import format_money
from anju.release.style import SAFETY

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_map_palette_and_money_card_follow_the_release(client, release_json) -> None:
    client.login_as("leader")
    html = client.get("/").text
    block = re.search(r'<script type="application/json" id="overview-data">(.*?)</script>', html, re.S)
    assert block is not None
    assert json.loads(block.group(1))["palette"] == SAFETY  # one definition, shared with the release
    js = client.get("/static/app.js").text
    assert "#1a9850" not in js and "#d73027" not in js  # the old red–green ramp is gone
    loss = next(r for r in release_json["tables"]["headline"]["rows"] if r["metric"] == "fraud_loss_yuan")
    card = re.search(r'data-metric="fraud_loss_yuan".*?<p class="big">(.*?)</p>', html, re.S)
    assert card is not None
    if loss["value"] is None:
        assert card.group(1).strip() == "—"
    else:
        assert card.group(1).strip() == format_money(float(loss["value"]), "zh")
        assert "元" in card.group(1)
