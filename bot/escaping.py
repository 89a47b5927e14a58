"""The one escape for user text that is shown in Slack mrkdwn or plain `text` fields."""


def escape_mrkdwn(text: str) -> str:
    """Make user text inert in mrkdwn: `<!channel>`, `<@U123>` and `<https://x|y>` show as typed.

    Slack asks for exactly these three characters to be escaped; everything else is shown as is.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
