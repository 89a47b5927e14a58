"""`beacon sandbox`: try, demo and preview Beacon in a browser, with no Slack workspace and no internet.

Beacon runs unchanged against the local Slack workspace of `bot.local_slack`, seeded with a demo trust
(`demo_trust`, `demo_story`); the page in `static/` talks to `page_api`; `timeline` runs the scheduler's jobs on
the sandbox's own clock, which the page can move forward.
"""
