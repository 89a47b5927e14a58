"""Privacy and audit: the audit log records privileged actions and shows tampering; a person's data can be
exported and erased with counts intact; retention removes what is old; the organisation file reloads live."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import yaml
from sqlalchemy import func, insert, select, text

from beacon.bot.blocks.pulses import slot_blocks
from beacon.bot.ids import ActionId, BlockId
from beacon.bot.models import AuditEntry, Nomination, SQLModel
from beacon.bot.reload import reload_organisation
from beacon.bot.services.work_queue import WorkKind, enqueue
from tests.harness import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ERIN,
    FORUM,
    FRANK,
    GRACE,
    HEIDI,
    Beacon,
    settle,
)
from tests.nominating import deliver, nominate

ABOUT_ALICE = ("Alice talked a frightened patient's daughter through the worst night of her life, then stayed on "
               "to restock the vehicle for the next crew. Honest, kind and calm under pressure.")


async def _actions(beacon: Beacon) -> list[tuple[str, str, str]]:
    async with beacon.deps.db.transaction() as session:
        return [(e.actor, e.action, e.subject) for e in await beacon.deps.audit.entries(session=session)]


async def _named_pulse(beacon: Beacon) -> None:
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", channel=FORUM)
    await settle()
    kind, question, options = slot_blocks(1)
    await erin.submit({BlockId.PULSE_TITLE: "Station kit", kind: "single", question: "Is the kit ready?",
                       options: "Yes\nNo", BlockId.PULSE_SETTINGS: [], BlockId.PULSE_CLOSES_DAY: "2026-11-30",
                       BlockId.PULSE_CLOSES_TIME: "17:00"})
    await deliver(beacon)


async def _activity(beacon: Beacon) -> None:
    """Alice nominates Heidi (publicly, celebrated) and is nominated by Bob (name hidden); she answers a named
    pulse, says she will attend a visit and asks its leader a question."""
    alice, heidi = beacon.slack.person(ALICE), beacon.slack.person(HEIDI)
    await nominate(alice, text="<@U0HEIDI|heidi>", values=["care"])
    await deliver(beacon)
    await heidi.click(ActionId.CONSENT_GIVE, message=heidi.dms()[-1])
    await settle()
    await deliver(beacon)
    await nominate(beacon.slack.person(BOB), text="<@U0ALICE|alice>", values=["honesty"], hide=True, share=False,
                   story=ABOUT_ALICE)
    await _named_pulse(beacon)
    message = next(m for m in beacon.ws.messages(FORUM) if m.blocks and m.blocks[0]["type"] == "header")
    await alice.click(f"{ActionId.PULSE_CHOOSE}_0", message=message)
    await settle()
    carol = beacon.slack.person(CAROL)
    await carol.command("/visit")
    await settle()
    await carol.submit({BlockId.VISIT_SITE: "Chelmsford Ambulance Station", BlockId.VISIT_DAY: "2026-11-25",
                        BlockId.VISIT_STARTS: "10:00", BlockId.VISIT_ENDS: "11:00",
                        BlockId.VISIT_PURPOSE: "Meet the crews", BlockId.VISIT_OPEN_TO: "All staff"})
    await deliver(beacon)
    announcement = next(m for m in beacon.ws.messages("C0ENGAGE") if "Meet the crews" in json.dumps(m.blocks))
    await alice.click(ActionId.CALENDAR_ATTEND, message=announcement)
    await settle()


async def test_privileged_actions_are_audited_and_the_chain_verifies(beacon: Beacon) -> None:
    await beacon.slack.person(DAVE).command("/awards", 'open "Spring Awards" closes 2027-03-31')
    await settle()
    await _named_pulse(beacon)
    erin = beacon.slack.person(ERIN)
    await erin.command("/pulse", "export 1", channel=FORUM)
    await erin.command("/pulse", "close 1", channel=FORUM)
    await settle()
    await beacon.slack.person(ALICE).command("/pulse", "close 1", channel=FORUM)  # refused: not audited
    await settle()
    assert await _actions(beacon) == [
        (DAVE, "round.opened", "round:1"), (ERIN, "pulse.created", "pulse:1"), (ERIN, "pulse.exported", "pulse:1"),
        (ERIN, "pulse.closed", "pulse:1")]
    async with beacon.deps.db.transaction() as session:
        result = await beacon.deps.audit.verify(session=session)
    assert result.ok and result.checked == 4


async def test_the_audit_log_refuses_changes_and_shows_tampering(beacon: Beacon) -> None:
    audit, db = beacon.deps.audit, beacon.deps.db
    for n in range(5):
        async with db.transaction() as session:
            await audit.record(session=session, actor=FRANK, action="post.cancelled", subject=f"post:{n}")
    try:
        async with db.transaction() as session:
            await session.execute(text("UPDATE audit_entry SET actor = 'U0NOBODY' WHERE seq = 2"))
        raise AssertionError("the update should have been refused")
    except Exception as error:  # either database's own error
        assert "audit entries cannot be changed" in str(error)

    async def verify() -> str | None:
        async with db.transaction() as session:
            return (await audit.verify(session=session)).problem

    guard = ("DROP TRIGGER audit_entry_append_only" if db.is_sqlite
             else "ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only")
    async with db.transaction() as session:  # someone with the database, but not the key, works around it
        await session.execute(text(guard))
    try:
        async with db.transaction() as session:
            await session.execute(text("UPDATE audit_entry SET actor = 'U0NOBODY' WHERE seq = 2"))
        assert await verify() == "entry 2 (post.cancelled) was changed after it was written"
        async with db.transaction() as session:
            await session.execute(text("UPDATE audit_entry SET actor = :actor WHERE seq = 2"), {"actor": FRANK})
            await session.execute(text("DELETE FROM audit_entry WHERE seq = 3"))
        assert await verify() == "the chain is broken before entry 4: an entry was removed or inserted"
        async with db.transaction() as session:
            await session.execute(text("DELETE FROM audit_entry WHERE seq >= 3"))
        assert await verify() == "entries after 2 were removed (the log's head is at entry 5)"
    finally:  # PostgreSQL's test database outlives this test: put the guard back
        if not db.is_sqlite:
            async with db.transaction() as session:
                await session.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only"))


async def test_entries_written_at_once_form_one_chain(beacon: Beacon) -> None:
    audit, db = beacon.deps.audit, beacon.deps.db

    async def write(n: int) -> None:
        async with db.transaction() as session:
            await audit.record(session=session, actor=GRACE, action="post.scheduled", subject=f"post:{n}")

    await asyncio.gather(*(write(n) for n in range(20)))
    async with db.transaction() as session:
        result = await audit.verify(session=session)
        assert result.ok and result.checked == 20
        assert [e.seq for e in await audit.entries(session=session)] == list(range(1, 21))


async def test_a_persons_data_is_exported_without_anonymous_answers(beacon: Beacon) -> None:
    await _activity(beacon)
    async with beacon.deps.db.transaction() as session:
        await enqueue(session=session, kind=WorkKind.AWARDS_INSIGHT, params={}, requested_by=ALICE,
                      now=datetime(2099, 1, 1, tzinfo=UTC))
        document = await beacon.deps.privacy.export(session=session, user_id=ALICE, actor="cli:ig-officer")
    assert [w["what"] for w in document["work_you_asked_for"]] == [WorkKind.AWARDS_INSIGHT]
    assert document["about"]["user_id"] == ALICE
    [made] = document["nominations_made"]
    assert made["nominees"] == [HEIDI] and made["celebrated_at"]
    [received] = document["recognition_received"]
    assert received["from"] == "withheld: the nominator asked not to be named" and received["values"] == ["honesty"]
    assert document["pulses"]["named_answers"][0]["answers"] == {"q1": "Yes"}
    assert [p["title"] for p in document["pulses"]["took_part_in"]] == ["Station kit"]
    assert len(document["calendar"]["said_you_would_attend"]) == 1
    assert "Anonymous pulses" not in json.dumps(document) and "Answers to anonymous pulses" in document[
        "not_included"]
    assert any(m["status"] == "sent" for m in document["messages_beacon_sent_you"])
    async with beacon.deps.db.transaction() as session:
        [entry] = [e for e in await beacon.deps.audit.entries(session=session) if e.action == "privacy.exported"]
    assert (entry.actor, entry.subject) == ("cli:ig-officer", f"user:{ALICE}")


async def _everything_stored(beacon: Beacon) -> str:
    dump = []
    async with beacon.deps.db.transaction() as session:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in ("audit_entry", "processed_event"):
                continue
            rows = (await session.execute(select(table))).all()
            dump.append(f"{table.name}: " + json.dumps([list(r) for r in rows], default=str))
    return "\n".join(dump)


async def test_erasure_forgets_the_person_and_keeps_the_counts(beacon: Beacon) -> None:
    await _activity(beacon)
    week = beacon.deps.digests.week_of(datetime(2026, 11, 30, 8, tzinfo=UTC))

    async def counts() -> tuple:
        digest = await beacon.deps.digests.gather(db=beacon.deps.db, week=week)
        async with beacon.deps.db.transaction() as session:
            pulse = await beacon.deps.pulses.get(session=session, pulse_id=1)
            results = await beacon.deps.pulses.results(session=session, pulse=pulse, for_moderators=True)
        r = digest["recognition"]
        return r["nominations"], r["colleagues"], r["by_value"], results.total

    before = await counts()
    async with beacon.deps.db.transaction() as session:  # an export she asked for, still waiting for a worker
        await enqueue(session=session, kind=WorkKind.AWARDS_EXPORT, params={}, requested_by=ALICE,
                      now=datetime(2099, 1, 1, tzinfo=UTC))
    assert ALICE in await _everything_stored(beacon)
    async with beacon.deps.db.transaction() as session:
        report = await beacon.deps.privacy.erase(session=session, user_id=ALICE, actor="cli:ig-officer")
    assert report.pseudonym.startswith("ERASED-") and report.total > 0
    assert report.changed["nominations made"] == 1 and report.changed["nominations received"] == 1
    assert report.changed["named pulse answers"] == 1 and report.changed["attendance"] == 1
    assert report.changed["work they asked for"] == 1
    stored = await _everything_stored(beacon)
    assert ALICE not in stored, [line[:60] + "…" + line[line.index(ALICE) - 200:line.index(ALICE) + 50]
                                 for line in stored.splitlines() if ALICE in line]
    assert ABOUT_ALICE not in stored, "the story about her (she was its only nominee) is gone"
    assert "Alice stayed two hours" in stored, "the story she wrote about Heidi is Heidi's recognition; it stays"
    assert await counts() == before, "the same numbers of nominations, colleagues, values and answers"
    async with beacon.deps.db.transaction() as session:
        again = await beacon.deps.privacy.erase(session=session, user_id=ALICE, actor="cli:ig-officer")
    assert again.total == 0, "a second erasure finds nothing"
    actions = [a for _, a, _ in await _actions(beacon)]
    assert actions.count("privacy.erased") == 2


async def test_retention_removes_what_is_old_and_the_log_still_verifies(beacon: Beacon) -> None:
    await _activity(beacon)
    await beacon.slack.person(ERIN).command("/pulse", "close 1", channel=FORUM)
    await settle()
    privacy = beacon.deps.privacy
    async with beacon.deps.db.transaction() as session:
        plan = await privacy.retention(session=session, dry_run=True)
    assert not any(plan.counts.values()), "nothing is old yet"
    beacon.clock.set(datetime(2029, 12, 1, tzinfo=UTC))  # three years on: nominations outside a round, answers
    async with beacon.deps.db.transaction() as session:
        plan = await privacy.retention(session=session, dry_run=True)
    assert plan.counts["nominations"] == 2 and plan.counts["named pulse answers"] == 1
    assert plan.counts["engagements"] == 1 and plan.counts["audit entries"] == 0
    async with beacon.deps.db.transaction() as session:
        await privacy.retention(session=session, dry_run=False)
        assert not any((await privacy.retention(session=session, dry_run=True)).counts.values())
    beacon.clock.set(datetime(2033, 1, 1, tzinfo=UTC))  # six years on: the audit log's oldest entries go too
    async with beacon.deps.db.transaction() as session:
        plan = await privacy.retention(session=session, dry_run=False)
        assert plan.counts["audit entries"] >= 3
        result = await beacon.deps.audit.verify(session=session)
        left = (await session.scalars(select(AuditEntry))).all()
    assert result.ok and [e.action for e in left] == ["privacy.retention", "privacy.retention"], "2029's and 2033's"


async def test_the_privacy_notice_opens_from_the_app_home(beacon: Beacon) -> None:
    alice = beacon.slack.person(ALICE)
    await alice.open_home()
    await settle()
    await alice.click(ActionId.PRIVACY_NOTICE, in_home=True)
    await settle()
    shown = json.dumps(alice.modal.blocks)  # type: ignore[union-attr]
    assert "*Pulses*" in shown and "not the pulse's creator" in shown and "*Your rights*" in shown


async def test_reloading_applies_roles_and_refuses_a_bad_file(beacon: Beacon, tmp_path: Path) -> None:
    config = tmp_path / "beacon.yaml"
    current = beacon.deps.organisation.model_dump(mode="json", exclude_defaults=True)
    beacon.deps.settings.beacon_config = config
    alice = beacon.slack.person(ALICE)
    await alice.command("/pulse", channel=FORUM)
    await settle()
    assert "needs the *staff forum moderator*" in alice.last_ephemeral().text

    config.write_text(yaml.safe_dump(current | {"roles": current["roles"] | {"forum_moderators": [ERIN, ALICE]},
                                                "timezone": "Europe/Dublin"}))
    report = await reload_organisation(beacon.deps, actor="cli:it")
    assert report.applied == ["roles"] and report.needs_restart == ["timezone"]
    await alice.command("/pulse", channel=FORUM)
    await settle()
    assert alice.modal is not None, "Alice can build a pulse now, without a restart"

    config.write_text(yaml.safe_dump(current | {"channels": {"recognition": "not-a-channel"}}))
    refused = await reload_organisation(beacon.deps)
    assert not refused.ok and any("channels.recognition" in p for p in refused.problems)
    assert beacon.deps.organisation.channels.recognition == "C0RECOG", "the running configuration is kept"
    assert ("cli:it", "configuration.reloaded", str(config)) in await _actions(beacon)


async def test_privacy_and_audit_from_the_command_line(slack, tmp_path: Path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from beacon.bot.db import Database, upgrade
    from beacon.bot.models import Nomination, Nominee
    from tests.processes import run_beacon, slack_env, write_config

    env = slack_env(slack, write_config(tmp_path / "beacon.yaml"), database_url)
    await upgrade(database_url)
    db = Database(database_url)
    now = datetime.now(UTC)
    async with db.transaction() as session:
        session.add(Nomination(id=1, nominator_id=BOB, award="thanks", story=ABOUT_ALICE, values=["care"],
                               behaviours=[], created_at=now, updated_at=now))
        await session.flush()
        session.add(Nominee(nomination_id=1, user_id=ALICE))
    await db.dispose()

    code, out, err = await run_beacon("privacy", "export", ALICE, env=env, cwd=tmp_path)
    assert code == 0, err
    assert json.loads(out)["recognition_received"][0]["story"] == ABOUT_ALICE
    code, out, err = await run_beacon("privacy", "erase", ALICE, env=env, cwd=tmp_path)
    assert code == 1 and "Run again with --yes" in err
    code, out, err = await run_beacon("privacy", "erase", ALICE, "--yes", env=env, cwd=tmp_path)
    assert code == 0, err
    assert "U0ALICE is now ERASED-" in out and "nominations received: 1" in out
    code, out, _ = await run_beacon("privacy", "erase", ALICE, "--yes", env=env, cwd=tmp_path)
    assert "Beacon holds nothing about U0ALICE" in out
    code, out, err = await run_beacon("privacy", "erase", "alice", "--yes", env=env, cwd=tmp_path)
    assert code == 2 and "is not a Slack user ID" in err
    code, out, _ = await run_beacon("privacy", "retention", "--dry-run", env=env, cwd=tmp_path)
    assert code == 0 and "Would remove 0 nominations" in out and "Cut-off dates: nominations before" in out

    code, out, _ = await run_beacon("audit", env=env, cwd=tmp_path)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert "privacy.exported" in lines[0] and "user:U0ALICE" in lines[0]
    assert "privacy.erased" in lines[1] and "user:ERASED-" in lines[1] and "U0ALICE" not in lines[1]
    code, out, _ = await run_beacon("audit", "--verify", env=env, cwd=tmp_path)
    assert code == 0 and out.strip() == "The audit log is intact: 3 entries checked."
    code, out, err = await run_beacon("audit", "--verify", env=env | {"BEACON_SECRET_KEY": "another-key-" + "y" * 40},
                                      cwd=tmp_path)
    assert code == 1 and "signed with a key Beacon does not have" in out, "entries signed with the old key"
    rotated = env | {"BEACON_SECRET_KEY": "another-key-" + "y" * 40, "BEACON_OLD_SECRET_KEYS": env["BEACON_SECRET_KEY"]}
    code, out, _ = await run_beacon("audit", "--verify", env=rotated, cwd=tmp_path)
    assert code == 0, "old entries verify with the old key kept in BEACON_OLD_SECRET_KEYS"


async def test_sighup_reloads_roles_in_a_running_beacon(slack, tmp_path: Path, database_url: str) -> None:  # type: ignore[no-untyped-def]
    import signal

    from tests.processes import beacon_process, eventually, free_port, run_beacon, slack_env, wait_healthy, write_config

    config = write_config(tmp_path / "beacon.yaml")
    pid_file = tmp_path / "beacon.pid"
    env = slack_env(slack, config, database_url) | {"BEACON_PID_FILE": str(pid_file)}
    port = free_port()
    async with beacon_process("serve", "--port", str(port), env=env, cwd=tmp_path) as process:
        await wait_healthy(port)
        slack.app_url = f"http://127.0.0.1:{port}/slack/events"
        assert int(pid_file.read_text()) == process.pid
        alice = slack.person(ALICE)
        await alice.command("/pulse")
        await eventually(lambda: alice.ephemerals())
        assert "needs the *staff forum moderator*" in alice.last_ephemeral().text

        data = yaml.safe_load(config.read_text())
        data["roles"]["forum_moderators"] = [ALICE]
        config.write_text(yaml.safe_dump(data))
        code, out, err = await run_beacon("reload", env=env, cwd=tmp_path)
        assert code == 0, err
        assert f"process {process.pid} was asked to reload it" in out

        async def can_build() -> bool:
            await alice.command("/pulse")
            await asyncio.sleep(0.2)
            return alice.modal is not None
        await eventually(can_build)

        config.write_text("channels: [this is not right")
        code, _, err = await run_beacon("reload", env=env, cwd=tmp_path)
        assert code == 2 and "beacon.yaml" in err, "a bad file is refused before the process is asked"
        process.send_signal(signal.SIGHUP)  # asked anyway: the running process keeps its configuration
        await asyncio.sleep(0.5)
        assert process.returncode is None
        health = await wait_healthy(port)
        assert health["ok"]


async def test_retention_removes_more_than_one_statement_can_list(beacon: Beacon) -> None:
    """A large trust's year outgrows PostgreSQL's driver limit of 32,767 parameters in one statement."""
    made = datetime(2026, 1, 5, tzinfo=UTC)
    rows = [{"nominator_id": ALICE, "award": "thanks", "story": "Thank you", "values": ["care"], "behaviours": [],
             "status": "active", "created_at": made, "updated_at": made} for _ in range(33_000)]
    async with beacon.deps.db.transaction() as session:
        await session.execute(insert(Nomination), rows)
    beacon.clock.set(datetime(2029, 6, 1, tzinfo=UTC))
    async with beacon.deps.db.transaction() as session:
        plan = await beacon.deps.privacy.retention(session=session, dry_run=False)
    assert plan.counts["nominations"] == 33_000
    async with beacon.deps.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Nomination)) == 0
