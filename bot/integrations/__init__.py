"""One external system per module (Slack, Microsoft Graph, ICS feeds); no domain decisions."""
