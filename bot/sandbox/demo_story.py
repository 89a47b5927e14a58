"""What has already happened in the demo trust when the sandbox opens, played through Slack as people do it.

The panel chair opens an award round; colleagues nominate one another through the /nominate modal and some
nominees consent; the forum chair's pulse is open and most people have answered; two leaders have written their
commitments and a locality manager has announced a night visit; a paramedic asked the leaders a question, the
forum moderator published it and the chief executive answered it in the thread; the comms team has a post
scheduled for tomorrow. Each step is a signed request to Beacon, so what the sandbox shows is Beacon's own work.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from beacon.bot.blocks.nominations import NO_PATIENT_DETAILS, SHARE
from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.local_slack import Person
from beacon.bot.sandbox.demo_trust import (
    ALICE,
    BOB,
    CAROL,
    COMMITMENTS,
    DAVE,
    ERIN,
    FORUM,
    FRANK,
    GENERAL,
    GRACE,
    HEIDI,
    IVAN,
    LENA,
    OMAR,
    PRIYA,
)
from beacon.bot.sandbox.page_api import settled
from beacon.bot.services.pulses import PulseDraft, QuestionDraft
from beacon.scheduler import leaders_refresh

if TYPE_CHECKING:
    from beacon.bot.sandbox.server import Sandbox

NOMINATIONS = (  # (nominator, nominee, award, values, behaviours, story, consented)
    (HEIDI, ALICE, "values", ["care", "teamwork"], None,
     "Alice stayed on after a long night shift to talk a newly qualified colleague through a very hard call. "
     "She listened, shared how she copes, and made sure they got home safely. That is what care for each "
     "other looks like.", False),
    (IVAN, CAROL, "leadership", ["honesty", "respect"], ["leading_with_care", "engaging_the_team"],
     "Carol sat with us in the control room for a whole evening shift during the winter surge, took calls "
     "alongside us, and then changed the break rota the following week because of what we told her.", True),
    (OMAR, IVAN, "thanks", ["quality"], None,
     "Ivan spotted that two calls about the same road traffic collision were being handled separately and "
     "joined them up within seconds, which got the right resources there faster.", True),
)


async def _nominate(person: Person, nominee: str, award: str, values: list[str], behaviours: list[str] | None,
                    story: str) -> None:
    await person.command("/nominate", channel=GENERAL)
    await settled()
    await person.click(ActionId.NOMINATE_AWARD, value=award)
    await settled()
    fields: dict[str, Any] = {BlockId.NOMINATE_COLLEAGUES: [nominee], BlockId.NOMINATE_VALUES: values,
                              BlockId.NOMINATE_STORY: story, BlockId.NOMINATE_OPTIONS: [SHARE],
                              BlockId.NOMINATE_NO_PATIENT_DETAILS: [NO_PATIENT_DETAILS]}
    if behaviours:
        fields[BlockId.NOMINATE_BEHAVIOURS] = behaviours
    await person.submit(fields)
    await settled()


async def _deliver(sandbox: Sandbox) -> None:
    assert sandbox.runtime is not None
    await settled()
    await sandbox.runtime.deps.dispatcher.run_once()
    await settled()


async def play(sandbox: Sandbox) -> None:
    slack, runtime, tz = sandbox.slack, sandbox.runtime, sandbox.tz
    assert runtime is not None
    today = sandbox.clock.now().astimezone(tz).date()

    closes = today + timedelta(days=21)
    await slack.person(DAVE).command("/awards", f'open "{today.year + 1} Staff Awards" closes {closes.isoformat()}',
                                     channel=GENERAL)
    await settled()

    for nominator, nominee, award, values, behaviours, story, consented in NOMINATIONS:
        await _nominate(slack.person(nominator), nominee, award, values, behaviours, story)
        await _deliver(sandbox)
        if consented:
            person = slack.person(nominee)
            ask = next(m for m in reversed(person.dms())
                       if any(e.get("action_id") == ActionId.CONSENT_GIVE for b in m.blocks
                              for e in b.get("elements", []) if isinstance(e, dict)))
            await person.click(ActionId.CONSENT_GIVE, message=ask)
            await _deliver(sandbox)

    draft = PulseDraft(
        title="Winter pressures: how are you doing?", channel=FORUM, anonymous=True, live_results=True,
        closes_at=datetime.combine(today + timedelta(days=3), time(17, 0), tzinfo=tz),
        questions=(QuestionDraft(type="single", text="How manageable has your workload felt this week?",
                                 options=("Manageable", "Stretched", "Too much")),))
    async with runtime.deps.db.transaction() as session:
        await runtime.deps.pulses.create(session=session, user_id=ERIN, draft=draft)
    await _deliver(sandbox)
    pulse_message = next(m for m in reversed(slack.workspace.messages(FORUM)) if m.blocks)
    # Ten answers: the five oldest are stored together, the newest five wait for the next group (an anonymous
    # answer is never stored with fewer than five others), so the message shows 5 responses.
    for who, choice in ((HEIDI, 1), (IVAN, 1), (OMAR, 0), (BOB, 2), (PRIYA, 1), (CAROL, 0), (GRACE, 1), (DAVE, 1),
                        (ERIN, 2), (FRANK, 0)):
        await slack.person(who).click(f"{ActionId.PULSE_CHOOSE}_{choice}", message=pulse_message)
        await settled()

    for leader, words in COMMITMENTS.items():  # two leaders write their commitment, from the App Home
        person = slack.person(leader)
        await person.open_home()
        await settled()
        await person.click(ActionId.LEADER_STATEMENT_OPEN, in_home=True)
        await settled()
        await person.submit({BlockId.LEADER_STATEMENT: words})
        await settled()
    await leaders_refresh.run(runtime.deps)  # their names, titles and photos, as the half-hourly job copies them
    lena = slack.person(LENA)  # and a locality manager announces a visit in her area
    await lena.command("/visit", channel=GENERAL)
    await settled()
    await lena.submit({BlockId.VISIT_SITE: "Colchester Ambulance Station", BlockId.VISIT_DAY: today + timedelta(days=2),
                       BlockId.VISIT_STARTS: "21:00", BlockId.VISIT_ENDS: "23:00",
                       BlockId.VISIT_PURPOSE: "Tea and a talk with the night shift"})
    await _deliver(sandbox)

    await _ask_the_leaders(sandbox)

    grace = slack.person(GRACE)
    await grace.command("/schedule", channel=GENERAL)
    await settled()
    if grace.modal is not None and grace.modal.callback_id == CallbackId.SCHEDULE_COMPOSE:
        await grace.submit({
            BlockId.SCHEDULE_CHANNELS: [GENERAL],
            BlockId.SCHEDULE_MESSAGE: ":mega: Flu jabs are at Chelmsford and Colchester stations all this week, "
                                      "07:00 to 19:00. No appointment needed: bring your ID badge.",
            BlockId.SCHEDULE_DAY: today + timedelta(days=1), BlockId.SCHEDULE_TIME: "09:00"})
        await settled()
        if grace.modal is not None and grace.modal.callback_id == CallbackId.SCHEDULE_PREVIEW:
            await grace.submit()
            await settled()
    await _deliver(sandbox)


ASKED = ("Could the Bedford canteen stay open for the night shift? At 02:00 there is nowhere on site to get a hot "
         "meal, and crews coming off a long job end up with vending machine food.")
ANSWERED = ("You said the night shift has nowhere to get a hot meal. We did: from Monday the Bedford canteen opens "
            "until 02:00, and we are asking the other stations' crews the same question in next month's pulse.")


async def _ask_the_leaders(sandbox: Sandbox) -> None:
    """The two-way loop: Heidi asks the leaders (/ask), Erin publishes it, Priya supports it, Carol is asked to
    answer and does; the answer goes in the question's thread and Heidi is told."""
    slack = sandbox.slack
    heidi, erin, carol = slack.person(HEIDI), slack.person(ERIN), slack.person(CAROL)
    await heidi.command("/ask", channel=GENERAL)
    await settled()
    await heidi.submit({BlockId.ASK_TEXT: ASKED, BlockId.ASK_ANONYMOUS: []})
    await settled()
    await heidi.close_modal()  # the form turned into its receipt; she has read it
    await settled()
    await erin.command("/ask", "queue", channel=GENERAL)
    await settled()
    await erin.click(ActionId.ASK_PUBLISH, message=erin.last_ephemeral())
    await _deliver(sandbox)
    post = next(m for m in reversed(slack.workspace.messages(FORUM)) if m.thread_ts is None and m.blocks)
    await slack.person(PRIYA).click(ActionId.ASK_SUPPORT, message=post)
    await _deliver(sandbox)
    await erin.command("/ask", "queue", channel=GENERAL)
    await settled()
    await erin.click(ActionId.ASK_ASSIGN, message=erin.last_ephemeral())
    await settled()
    await erin.submit({BlockId.ASK_LEADER: CAROL})
    await _deliver(sandbox)
    asked = next(m for m in reversed(carol.dms()) if "ask you to answer" in m.text)
    await carol.click(ActionId.ASK_ANSWER, message=asked)
    await settled()
    await carol.submit({BlockId.ASK_ANSWER_TEXT: ANSWERED})
    await _deliver(sandbox)
    for person in (heidi, erin, carol):  # a form left open would cover the sandbox's page when it opens as them
        if person.modal is not None:
            await person.close_modal()
            await settled()
