"""Everything Beacon is built on, made once per process; tests and the sandbox build their own."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot.blocks.notices import outgoing
from beacon.bot.blocks.pulses import build_confirmation, build_outcome
from beacon.bot.clock import Clock, SystemClock
from beacon.bot.config_errors import ConfigError
from beacon.bot.content import Content, load_content
from beacon.bot.db import Database
from beacon.bot.integrations.graph_calendar import GraphClient, GraphMailbox
from beacon.bot.integrations.http import SharedHttp
from beacon.bot.integrations.ics_calendar import IcsFeed
from beacon.bot.integrations.pulse_replies import SlackAnswerReplies
from beacon.bot.integrations.slack_channels import SlackChannelMembers
from beacon.bot.integrations.slack_delivery import SlackSender
from beacon.bot.integrations.slack_directory import SlackGroupDirectory
from beacon.bot.integrations.slack_identity import SlackWorkspaceLinks
from beacon.bot.integrations.slack_pacing import Pacer
from beacon.bot.integrations.slack_users import SlackUserDirectory
from beacon.bot.organisation import IcsSource, Organisation
from beacon.bot.services.audit import Audit
from beacon.bot.services.authorisation import Authorisation, GroupDirectory
from beacon.bot.services.award_rounds import AwardRounds
from beacon.bot.services.calendar_sync import CalendarSync, SourceReader
from beacon.bot.services.delivery import DeliveryPolicy, Dispatcher, OutcomeObserver, worker_name
from beacon.bot.services.digests import Digests
from beacon.bot.services.engagements import ANNOUNCEMENT as ENGAGEMENT_ANNOUNCEMENT
from beacon.bot.services.engagements import FOLDED_ANNOUNCEMENT, Engagements
from beacon.bot.services.leaders import Leaders
from beacon.bot.services.nominations import RECOGNITION_POST, Nominations
from beacon.bot.services.panel_review import PanelReview
from beacon.bot.services.privacy import Privacy
from beacon.bot.services.pulse_batches import PulseAnswering
from beacon.bot.services.pulses import PULSE_MESSAGE, Outcome, Pulses
from beacon.bot.services.scheduled_posts import SOURCE as SCHEDULED_POST
from beacon.bot.services.scheduled_posts import ScheduledPosts
from beacon.bot.services.visit_requests import VISIT_REQUEST, VisitRequests
from beacon.bot.services.work_queue import WorkQueue
from beacon.bot.settings import Settings


@dataclass
class Deps:
    settings: Settings
    organisation: Organisation
    content: Content
    clock: Clock
    db: Database
    slack: AsyncWebClient           # interactive calls, with automatic retries
    slack_delivery: AsyncWebClient  # the outbox's sends: the dispatcher decides about retries itself
    authorisation: Authorisation
    scheduled_posts: ScheduledPosts
    dispatcher: Dispatcher
    people: SlackUserDirectory
    nominations: Nominations
    award_rounds: AwardRounds
    panel_review: PanelReview
    http: SharedHttp
    engagements: Engagements
    calendar_sync: CalendarSync
    pulses: Pulses
    pulse_answering: PulseAnswering
    audit: Audit
    privacy: Privacy
    digests: Digests
    work: WorkQueue  # heavy work handed to `beacon worker`
    leaders: Leaders  # who may announce where, and the leader directory
    visit_requests: VisitRequests


def build_slack_client(settings: Settings, *, retries: bool = True, session: aiohttp.ClientSession | None = None,
                       token: str | None = None) -> AsyncWebClient:
    """A Web API client; by default it retries rate limits, 5xx and dropped connections. Each call waits at most
    BEACON_CONNECT_TIMEOUT seconds; HTTPS_PROXY, when set, carries every call (slack_sdk reads it)."""
    if token is None and settings.slack_bot_token:
        token = settings.slack_bot_token.get_secret_value()
    handlers = [AsyncConnectionErrorRetryHandler(max_retry_count=2), AsyncRateLimitErrorRetryHandler(max_retry_count=2),
                AsyncServerErrorRetryHandler(max_retry_count=2)] if retries else []
    return AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=settings.beacon_connect_timeout,
                          session=session, logger=logging.getLogger("beacon.slack"), retry_handlers=handlers)


def build_deps(settings: Settings, organisation: Organisation, *, clock: Clock | None = None,
               content: Content | None = None, db: Database | None = None,
               directory: GroupDirectory | None = None, http: SharedHttp | None = None,
               on_send: OutcomeObserver | None = None) -> Deps:
    """`http`, when open, is the one pooled session every outbound call uses (`running` opens it first);
    `on_send` hears each outbox delivery's outcome (the metrics)."""
    clock = clock or SystemClock()
    db = db or Database(settings.database_url, connect_timeout=settings.beacon_connect_timeout)
    http = http or SharedHttp()
    try:
        session: aiohttp.ClientSession | None = http.get()
    except RuntimeError:  # not opened (a benchmark, a script): slack_sdk then makes a session per call
        session = None
    slack = build_slack_client(settings, session=session)
    slack_delivery = build_slack_client(settings, retries=False, session=session)
    authorisation = Authorisation(organisation.roles, directory or SlackGroupDirectory(slack), clock)
    key, old_keys = settings.audit_keys()
    audit = Audit(key=key, old_keys=old_keys, clock=clock)
    scheduled_posts = ScheduledPosts(authorisation=authorisation, clock=clock, tz=organisation.tz,
                                     settings=organisation.schedule, audit=audit)
    content = content or load_content(settings.beacon_content)
    people = SlackUserDirectory(slack, clock)
    nominations = Nominations(content=content, organisation=organisation, clock=clock, people=people,
                              authorisation=authorisation, audit=audit)
    award_rounds = AwardRounds(content=content, organisation=organisation, clock=clock, authorisation=authorisation,
                               audit=audit)
    panel_review = PanelReview(content=content, organisation=organisation, clock=clock, authorisation=authorisation,
                               audit=audit)
    leaders = Leaders(organisation=organisation, clock=clock, authorisation=authorisation, people=people, audit=audit)
    engagements = Engagements(organisation=organisation, clock=clock, authorisation=authorisation, audit=audit,
                              leaders=leaders)
    calendar_sync = CalendarSync(db=db, engagements=engagements, clock=clock,
                                 readers=_calendar_readers(settings, organisation, http),
                                 window_days=organisation.calendar.window_days)
    pulses = Pulses(content=content, organisation=organisation, clock=clock, authorisation=authorisation,
                    members=SlackChannelMembers(slack, people), audit=audit)
    pulse_answering = PulseAnswering(db=db, pulses=pulses, clock=clock, batch=organisation.pulse.answer_batch,
                                     replies=SlackAnswerReplies(slack, render=_render_outcome, clock=clock),
                                     worker=worker_name())
    digests = Digests(organisation=organisation, content=content, clock=clock, authorisation=authorisation,
                      engagements=engagements, pulses=pulses, people=people, links=SlackWorkspaceLinks(slack),
                      grace=timedelta(hours=max(organisation.schedule.grace_hours, 0.25)))
    delivery = organisation.delivery
    sender = SlackSender(slack_delivery, render=outgoing, pacer=Pacer(
        posts_per_minute=delivery.posts_per_minute, per_channel_seconds=delivery.per_channel_seconds,
        seconds=lambda: clock.now().timestamp()))
    visit_requests = VisitRequests(organisation=organisation, clock=clock, authorisation=authorisation, audit=audit)
    dispatcher = Dispatcher(db=db, sender=sender, clock=clock,
                            admin_channel=lambda: organisation.channels.admin or None,
                            policy=DeliveryPolicy(lease=timedelta(seconds=delivery.lease_seconds),
                                                  concurrency=delivery.concurrency),
                            on_outcome=on_send,
                            hooks={SCHEDULED_POST: scheduled_posts.record_outcome,
                                   RECOGNITION_POST: nominations.record_posted,
                                   ENGAGEMENT_ANNOUNCEMENT: engagements.record_announced,
                                   FOLDED_ANNOUNCEMENT: engagements.record_folded,
                                   PULSE_MESSAGE: pulses.record_posted,
                                   VISIT_REQUEST: visit_requests.record_posted})
    return Deps(settings=settings, organisation=organisation, content=content, clock=clock,
                db=db, slack=slack, slack_delivery=slack_delivery, authorisation=authorisation,
                scheduled_posts=scheduled_posts, dispatcher=dispatcher, people=people, nominations=nominations,
                award_rounds=award_rounds, panel_review=panel_review, http=http, engagements=engagements,
                calendar_sync=calendar_sync, pulses=pulses, pulse_answering=pulse_answering, digests=digests,
                audit=audit, work=WorkQueue(db=db, clock=clock), leaders=leaders,
                privacy=Privacy(clock=clock, audit=audit, retention=organisation.retention,
                                organisation_name=organisation.name),
                visit_requests=visit_requests)


def _render_outcome(outcome: Outcome) -> tuple[str, list[dict[str, Any]]]:
    receipt = outcome.receipt
    blocks = build_confirmation(pulse=receipt.pulse, answers=receipt.answers, token=receipt.token,
                                changed=receipt.changed) if receipt else None
    return build_outcome(pulse_title=outcome.pulse_title, receipt_blocks=blocks, refusal=outcome.refusal)


def _calendar_readers(settings: Settings, organisation: Organisation, http: SharedHttp) -> list[SourceReader]:
    readers: list[SourceReader] = []
    graph: GraphClient | None = None
    for source in organisation.calendar.sources:
        if isinstance(source, IcsSource):
            readers.append(IcsFeed(source, tz=organisation.tz, http=http,
                                   allow_hosts=organisation.calendar.allow_hosts))
            continue
        if graph is None:
            missing = settings.missing_for_graph()
            if missing:
                raise ConfigError(missing)
            graph = GraphClient(settings, tz=organisation.tz, http=http)
        readers.append(GraphMailbox(source, graph))
    return readers
