"""Slack listeners, one module per surface. `register_all` is the table of contents of what users can do."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from beacon.bot.deps import Deps
from beacon.handlers import (
    about,
    ask,
    awards,
    calendar,
    digest,
    errors,
    home,
    leaders,
    nominations,
    privacy,
    pulse,
    schedule,
    visibility,
    visit_requests,
)


def register_all(app: AsyncApp, deps: Deps) -> None:
    errors.register(app, deps)          # what a person is told when their action did not happen
    home_tab = home.register(app, deps)  # the App Home tab; features add their sections to it
    about.register(app, deps)            # /beacon: who you are and what you can do
    nominations.register(app, deps, home_tab)  # /nominate: recognition, consent, endorsements
    awards.register(app, deps, home_tab)       # /awards: rounds and the panel's review
    calendar.register(app, deps, home_tab)     # /calendar, /visit: leaders out and about
    visibility.register(deps, home_tab)        # /calendar report: where leaders have been, for the board
    leaders.register(app, deps, home_tab)      # /leaders: who the leaders are, and their commitments
    visit_requests.register(app, deps)         # /calendar request: staff ask for a visit; the coordinator decides
    pulse.register(app, deps, home_tab)        # /pulse: the staff forum's pulse polls
    digest.register(app, deps, home_tab)       # /digest: the weekly digest and personal digests
    schedule.register(app, deps, home_tab)  # /schedule: the communications team's scheduled posts
    ask.register(app, deps, home_tab)       # /ask: staff ask the leaders, moderators publish, leaders answer
    privacy.register(app, deps, home_tab)   # the privacy notice, last in the App Home
