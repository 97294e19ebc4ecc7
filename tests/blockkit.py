"""Block Kit checks shared by the tests: every block parses with slack_sdk's models, within Slack's caps."""

from __future__ import annotations

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_CAP = 50
VIEW_CAP = 100


def assert_valid_blocks(blocks: list[dict], cap: int = MESSAGE_CAP) -> None:
    assert blocks, "no blocks"
    assert len(blocks) <= cap, f"{len(blocks)} blocks, over Slack's cap of {cap}"
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, f"unknown block {block}"
        parsed.to_dict()  # raises SlackObjectFormationError on a broken block


def assert_valid_view(view: dict) -> None:
    assert len(view["blocks"]) <= VIEW_CAP
    View(**view).to_dict()


def text_of(blocks: list[dict]) -> str:
    """All the text of a message, for checks by value."""
    parts = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"]["text"])
        parts += [f["text"] for f in block.get("fields", [])]
        parts += [e.get("text", "") for e in block.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(parts)
