"""Scheduled posts keep the mentions an author made with the editor and make everything else inert."""

from beacon.bot.blocks.rich_text import fallback_mrkdwn, is_empty, plain_text, sanitise_rich_text


def _section(*elements: dict) -> dict:
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": list(elements)}]}


def test_deliberate_mentions_are_kept() -> None:
    block = sanitise_rich_text(_section(
        {"type": "text", "text": "Well done "}, {"type": "user", "user_id": "U0ALICE"},
        {"type": "text", "text": " and "}, {"type": "usergroup", "usergroup_id": "S0COMMS"},
        {"type": "broadcast", "range": "here"}))
    kinds = [e["type"] for e in block["elements"][0]["elements"]]
    assert kinds == ["text", "user", "text", "usergroup", "broadcast"]
    assert fallback_mrkdwn(block) == "Well done <@U0ALICE> and <!subteam^S0COMMS><!here>"


def test_typed_markup_pings_nobody() -> None:
    block = sanitise_rich_text(_section({"type": "text", "text": "<!channel> <@U0BOB> <https://x|y> & more"}))
    assert block["elements"][0]["elements"] == [{"type": "text", "text": "<!channel> <@U0BOB> <https://x|y> & more"}]
    assert fallback_mrkdwn(block) == "&lt;!channel&gt; &lt;@U0BOB&gt; &lt;https://x|y&gt; &amp; more"


def test_channel_wide_broadcasts_and_unsafe_links_become_text() -> None:
    block = sanitise_rich_text(_section(
        {"type": "broadcast", "range": "channel"}, {"type": "broadcast", "range": "everyone"},
        {"type": "link", "url": "javascript:alert(1)", "text": "click"},
        {"type": "link", "url": "https://www.nhs.uk", "text": "NHS <site>"},
        {"type": "mystery", "text": "kept as text"}, {"type": "mystery"}))
    elements = block["elements"][0]["elements"]
    assert elements[0] == {"type": "text", "text": "@channel"}
    assert elements[1] == {"type": "text", "text": "@everyone"}
    assert elements[2] == {"type": "text", "text": "click"}
    assert elements[3] == {"type": "link", "url": "https://www.nhs.uk", "text": "NHS <site>"}
    assert elements[4] == {"type": "text", "text": "kept as text"}
    assert len(elements) == 5
    assert "<https://www.nhs.uk|NHS &lt;site&gt;>" in fallback_mrkdwn(block)
    assert "<!channel>" not in fallback_mrkdwn(block)


def test_lists_quotes_styles_and_emptiness() -> None:
    item = _section({"type": "text", "text": "one", "style": {"bold": True, "evil": 1}})["elements"][0]
    value = {"type": "rich_text", "elements": [
        {"type": "rich_text_list", "style": "ordered", "elements": [item]},
        {"type": "rich_text_quote", "elements": [{"type": "emoji", "name": "tada"}]}]}
    block = sanitise_rich_text(value)
    assert block["elements"][0]["elements"][0]["elements"][0] == {"type": "text", "text": "one",
                                                                   "style": {"bold": True}}
    assert plain_text(block) == "one\n\n:tada:"
    assert is_empty(sanitise_rich_text(_section({"type": "text", "text": "   "})))
    assert is_empty(sanitise_rich_text(None))
