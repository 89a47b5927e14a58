"""`/calendar` and `/visit`: the leader engagement calendar in Slack, and staff taking part in it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from beacon.bot import when
from beacon.bot.blocks.calendar import (
    ANONYMOUS,
    build_answer_modal,
    build_answers_log,
    build_calendar_blocks,
    build_follow_up_modal,
    build_follow_up_post,
    build_my_site_picker,
    build_question_modal,
    build_question_receipt,
    build_question_status,
    build_unknown_place,
    build_visit_modal,
)
from beacon.bot.deps import Deps
from beacon.bot.errors import InvalidInput
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId, BlockId, CallbackId, Command
from beacon.bot.models import EngagementMode
from beacon.bot.organisation import Role
from beacon.bot.services.engagements import QUESTION_BATCH, VisitDraft, VisitProblems
from beacon.bot.services.recurrence import exists_locally, to_utc
from beacon.handlers import visibility
from beacon.handlers.errors import guarded
from beacon.handlers.home import HomeTab
from beacon.handlers.modal_state import ModalState
from beacon.handlers.parsing import read_metadata, record_id
from beacon.handlers.visit_requests import open_request_form

HOME_ANSWERS = 5
VISIT_BLOCKS = {"site": BlockId.VISIT_OTHER_PLACE, "starts": BlockId.VISIT_STARTS, "ends": BlockId.VISIT_ENDS,
                "purpose": BlockId.VISIT_PURPOSE, "site_choice": BlockId.VISIT_SITE, "leader": BlockId.VISIT_LEADER,
                "join_link": BlockId.VISIT_JOIN_LINK, "staff_group": BlockId.VISIT_STAFF_GROUP}


def register(app: AsyncApp, deps: Deps, home_tab: HomeTab) -> None:
    guard = guarded(deps)
    engagements, org, tz = deps.engagements, deps.organisation, deps.organisation.tz

    async def calendar_blocks(user_id: str, where: str | None, heading: str) -> list[Block]:
        async with deps.db.transaction() as session:
            mine = await engagements.site_of(session=session, user_id=user_id)
            rows, more = await engagements.upcoming(session=session, where=where, first_site=mine)
        return build_calendar_blocks([(e, engagements.describe(e)) for e in rows], more=more, heading=heading,
                                     my_site=mine)

    async def home_section(user_id: str, _roles: frozenset[Role]) -> list[Block]:
        blocks = await calendar_blocks(user_id, None, "Leaders out and about: the next 14 days")
        if org.sites:
            async with deps.db.transaction() as session:
                mine = await engagements.site_of(session=session, user_id=user_id)
            blocks.append(build_my_site_picker(org.sites, mine))
        async with deps.db.transaction() as session:
            answered = await engagements.answers(session=session, limit=HOME_ANSWERS)
        if answered:
            blocks += build_answers_log(answered, heading="You said, we did: the latest answers")
        return blocks

    home_tab.add_section(home_section)

    @app.command(Command.CALENDAR)
    @guard
    async def handle_calendar(ack: AsyncAck, command: dict, respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        words = command.get("text", "").strip()
        if words.lower() == "report" or words.lower().startswith("report "):  # handlers/visibility.py
            text, blocks = await visibility.report_blocks(deps, user_id=command["user_id"], text=words[6:])
            await respond(response_type="ephemeral", text=text, blocks=blocks)
            return
        where = words or None
        if where and where.split()[0].lower() == "answers":  # the "you said, we did" log, searched
            search = where[len("answers"):].strip() or None
            async with deps.db.transaction() as session:
                items = await engagements.answers(session=session, search=search)
            heading = f"You said, we did: {search}" if search else "You said, we did"
            await respond(response_type="ephemeral", text=heading,
                          blocks=[b.to_dict() for b in build_answers_log(items, heading=heading, search=search)])
            return
        if where and where.lower() == "request":
            await open_request_form(deps, client, command["trigger_id"])
            return
        if where:
            async with deps.db.transaction() as session:
                nearest = await engagements.unknown_place(session=session, where=where)
            if nearest is not None:
                await respond(response_type="ephemeral", text=build_unknown_place(where, nearest))
                return
        heading = f"Leaders out and about: {where}, the next 14 days" if where else (
            "Leaders out and about: the next 14 days")
        await respond(response_type="ephemeral", text=heading,
                      blocks=[b.to_dict() for b in await calendar_blocks(command["user_id"], where, heading)])

    @app.command(Command.VISIT)
    @guard
    async def handle_visit(ack: AsyncAck, command: dict, client: AsyncWebClient) -> None:
        await ack()
        user_id = command["user_id"]
        await deps.authorisation.require_any(user_id, (Role.EXECUTIVES, Role.LEADERS), action="Announcing a visit")
        await client.views_open(trigger_id=command["trigger_id"], view=build_visit_modal(  # a leader: their sites
            leader=user_id, sites=await deps.leaders.visit_sites(user_id), today=deps.clock.now().astimezone(tz).date(),
            tz=tz, staff_groups=await deps.leaders.visit_staff_groups(user_id)))

    @app.view(CallbackId.VISIT)
    @guard
    async def handle_visit_submitted(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        user_id, state = body["user"]["id"], ModalState(view)
        day = date.fromisoformat(str(state.date(BlockId.VISIT_DAY)))
        walls = [datetime.combine(day, time.fromisoformat(str(state.time(b))))
                 for b in (BlockId.VISIT_STARTS, BlockId.VISIT_ENDS)]
        if walls[1] < walls[0]:  # an end before the start is the next day: a night shift, 22:00 to 02:00
            walls[1] += timedelta(days=1)
        skipped: dict[str, str] = {b: "That time does not exist that day: the clocks go forward. Choose another."
                   for b, wall in zip((BlockId.VISIT_STARTS, BlockId.VISIT_ENDS), walls, strict=True)
                   if not exists_locally(wall, tz)}
        if skipped:
            await ack(response_action="errors", errors=skipped)
            return
        leader = state.user(BlockId.VISIT_LEADER) or user_id
        people = await deps.people.colleagues([leader])
        draft = VisitDraft(
            leader_user_id=leader, leader_name=people[leader].name if leader in people else "A leader",
            site=state.option(BlockId.VISIT_SITE), other_place=state.text(BlockId.VISIT_OTHER_PLACE),
            starts_at=to_utc(walls[0], tz), ends_at=to_utc(walls[1], tz), purpose=state.text(BlockId.VISIT_PURPOSE),
            open_to=state.option(BlockId.VISIT_OPEN_TO) or "",
            mode=state.option(BlockId.VISIT_MODE) or EngagementMode.IN_PERSON,
            join_link=state.text(BlockId.VISIT_JOIN_LINK) or None, staff_group=state.option(BlockId.VISIT_STAFF_GROUP))
        try:
            async with deps.db.transaction() as session:
                engagement = await engagements.create_visit(session=session, user_id=user_id, draft=draft)
        except VisitProblems as problems:
            await ack(response_action="errors", errors={VISIT_BLOCKS[f]: m for f, m in problems.problems.items()})
            return
        await ack()
        also = "".join(f" and <#{c}>" for c in engagements.local_channels(engagement))
        link = (f" Its join link, {engagement.join_link}, goes only to staff who say they'll be there"
                + (" (it is by invitation: send it to those invited)." if engagements.join_link_for(
                    engagement, guest=False) is None else ".")) if engagement.join_link else ""
        await client.chat_postMessage(channel=user_id, text=(
            f":round_pushpin: Your visit, {engagements.describe(engagement)['when']}, is announced in "
            f"<#{org.channels.engagement}>{also}.{link}"))

    @app.action(ActionId.CALENDAR_ATTEND)
    @guard
    async def handle_attend(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient,
                            respond: AsyncRespond) -> None:
        await ack()
        async with deps.db.transaction() as session:
            engagement, going = await engagements.toggle_attendance(
                session=session, user_id=body["user"]["id"], engagement_id=record_id(action.get("value")))
        async with deps.db.transaction() as session:  # after the click is in: every post shows the same count
            await engagements.refresh_posts(session=session, engagement_id=engagement.id or 0)
        link = None
        if going and engagement.join_link:  # to this person only: staff, never a guest
            person = (await deps.people.colleagues([body["user"]["id"]])).get(body["user"]["id"])
            link = engagements.join_link_for(engagement, guest=person is None or person.guest)
        await respond(response_type="ephemeral", replace_original=False, text=(
            ":white_check_mark: You're down as going. Click again if your plans change."
            + (f" Join online: <{link}|{link}>" if link else "") if going
            else "You're no longer down as going."))

    @app.action(ActionId.CALENDAR_ASK)
    @guard
    async def handle_ask(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        async with deps.db.transaction() as session:
            engagement = await engagements.askable(session=session, engagement_id=record_id(action.get("value")))
        await client.views_open(trigger_id=body["trigger_id"], view=build_question_modal(
            engagement=engagement, when=engagements.describe(engagement)["when"]))

    @app.view(CallbackId.CALENDAR_QUESTION)
    @guard
    async def handle_question(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        user_id, state = body["user"]["id"], ModalState(view)
        question = state.text(BlockId.QUESTION_TEXT)
        hidden = set(state.options(BlockId.QUESTION_ANONYMOUS))
        try:
            async with deps.db.transaction() as session:
                asked = await engagements.ask(session=session, user_id=user_id,
                                              engagement_id=record_id(read_metadata(view).get("engagement")),
                                              question=question, hide_name=ANONYMOUS in hidden)
        except InvalidInput as problem:
            await ack(response_action="errors", errors={BlockId.QUESTION_TEXT: problem.user_message})
            return
        await ack()
        # Told here, never through the outbox: a stored DM would pair the asker with their token.
        text, blocks = build_question_receipt(
            leader=asked.engagement.leader, token=asked.token, batch_minutes=int(QUESTION_BATCH.total_seconds() // 60),
            briefing_at=when.moment(asked.briefing_at, tz, joined=" at ") if asked.briefing_at else None)
        await client.chat_postMessage(channel=user_id, text=text, blocks=blocks)

    @app.action(ActionId.CALENDAR_QUESTION_CHECK)
    @guard
    async def handle_question_check(ack: AsyncAck, action: dict, respond: AsyncRespond) -> None:
        await ack()
        async with deps.db.transaction() as session:
            asked, _ = await engagements.question_for_token(session=session, token=str(action.get("value") or ""))
        text, blocks = build_question_status(
            question=asked.question, answer=asked.answer, answered_by=asked.answered_by,
            answered_on=when.day(asked.answered_at.astimezone(tz), year=True) if asked.answered_at else None)
        await respond(response_type="ephemeral", replace_original=False, text=text, blocks=blocks)

    @app.action(ActionId.CALENDAR_FOLLOW_UP)
    @guard
    async def handle_follow_up_open(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        async with deps.db.transaction() as session:
            engagement = await engagements.for_follow_up(session=session, user_id=body["user"]["id"],
                                                         engagement_id=record_id(action.get("value")))
        await client.views_open(trigger_id=body["trigger_id"], view=build_follow_up_modal(engagement=engagement))

    @app.view(CallbackId.CALENDAR_FOLLOW_UP)
    @guard
    async def handle_follow_up(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        user_id = body["user"]["id"]
        text = ModalState(view).text(BlockId.FOLLOW_UP_TEXT)
        async with deps.db.transaction() as session:
            engagement = await engagements.for_follow_up(
                session=session, user_id=user_id, engagement_id=record_id(read_metadata(view).get("engagement")))
        await ack()
        heading, blocks = build_follow_up_post(leader_user_id=user_id, text=text)
        await client.chat_postMessage(channel=engagement.announced_channel or "", thread_ts=engagement.announced_ts,
                                      text=heading, blocks=blocks, reply_broadcast=False)

    @app.action(ActionId.CALENDAR_ANSWER)
    @guard
    async def handle_answer_open(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        async with deps.db.transaction() as session:
            question, engagement = await engagements.answerable(
                session=session, user_id=body["user"]["id"], question_id=record_id(action.get("value")))
        await client.views_open(trigger_id=body["trigger_id"], view=build_answer_modal(
            question_id=question.id or 0, question=question.question, title=engagement.title))

    @app.view(CallbackId.CALENDAR_ANSWER)
    @guard
    async def handle_answer(ack: AsyncAck, body: dict, view: dict, client: AsyncWebClient) -> None:
        user_id = body["user"]["id"]
        try:
            async with deps.db.transaction() as session:
                engagement = await engagements.answer(
                    session=session, user_id=user_id, question_id=record_id(read_metadata(view).get("question")),
                    answer=ModalState(view).text(BlockId.ANSWER_TEXT))
        except InvalidInput as problem:
            await ack(response_action="errors", errors={BlockId.ANSWER_TEXT: problem.user_message})
            return
        await ack()
        await client.chat_postMessage(channel=user_id, text=(
            f":white_check_mark: Your answer about {escape_mrkdwn(engagement.title)} is going to the engagement's "
            "thread and its site's channel, and the asker is told."))

    @app.action(ActionId.CALENDAR_MY_SITE)
    @guard
    async def handle_my_site(ack: AsyncAck, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        user_id = body["user"]["id"]
        async with deps.db.transaction() as session:
            await engagements.set_site(session=session, user_id=user_id,
                                       site=(action.get("selected_option") or {}).get("value"))
        await home_tab.publish(client, user_id)
