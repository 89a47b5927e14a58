"""A local Slack workspace: a Web API server, Socket Mode and people who click, all on 127.0.0.1.

The test suite drives Beacon through it, and `beacon sandbox` will let people try Beacon in a browser
with it. It answers as Slack does, including `ok: false` errors, missing scopes and 429s.
"""

from beacon.bot.local_slack.person import Person
from beacon.bot.local_slack.server import LocalSlack
from beacon.bot.local_slack.workspace import Workspace

__all__ = ["LocalSlack", "Person", "Workspace"]
