"""Builders for the foundation's surfaces: stable output, valid Block Kit, escaped user text."""

from beacon.bot.blocks.about import build_about_blocks, build_usage_blocks
from beacon.bot.blocks.errors import build_not_permitted_text
from beacon.bot.blocks.home import build_home
from beacon.bot.content import load_content
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.organisation import Role
from beacon.bot.services.authorisation import RoleHolders, RoleRequired
from tests.snapshots import assert_snapshot

CONTENT = load_content()


def _about(roles: frozenset[Role]) -> list[dict]:
    blocks = build_about_blocks(user_id="U0ALICE", roles=roles, commands=CONTENT.commands.values(),
                                messages=CONTENT.messages, organisation_name="Trust <&> Co")
    return [b.to_dict() for b in blocks]


def test_about_for_staff_and_for_an_admin() -> None:
    assert_snapshot("about_staff", _about(frozenset()))
    assert_snapshot("about_admin_and_comms", _about(frozenset({Role.ADMINS, Role.COMMS})))


def test_home_view_is_valid_and_composed_of_sections() -> None:
    home = build_home(sections=[build_about_blocks(user_id="U0ALICE", roles=frozenset(),
                                                   commands=CONTENT.commands.values(), messages=CONTENT.messages,
                                                   organisation_name="Trust"), []])
    assert home["type"] == "home"
    assert_snapshot("home_staff", home)


def test_usage_reply_escapes_what_was_typed() -> None:
    blocks = build_usage_blocks(command="/beacon", text="<!everyone>", spec=CONTENT.commands["/beacon"],
                                roles=frozenset(), messages=CONTENT.messages)
    text = blocks[0].to_dict()["text"]["text"]
    assert "&lt;!everyone&gt;" in text and "<!everyone>" not in text


def test_refusal_names_the_role_and_who_holds_it() -> None:
    error = RoleRequired(action="Scheduling a post",
                         holders=RoleHolders(Role.COMMS, user_ids=("U0GRACE",), group_handles=("@comms-team",)))
    text = build_not_permitted_text(error, CONTENT.messages)
    assert text.startswith("Sorry, Scheduling a post needs the *communications team* role.")
    assert "<@U0GRACE> and members of @comms-team" in text


def test_refusal_when_nobody_holds_the_role_says_how_to_grant_it() -> None:
    error = RoleRequired(action="Announcing a visit", holders=RoleHolders(Role.EXECUTIVES, (), ()))
    assert "`roles: executives`" in build_not_permitted_text(error, CONTENT.messages)


def test_escape_makes_slack_markup_inert() -> None:
    assert escape_mrkdwn("<!channel> & <@U1> <https://x|y>") == (
        "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;")
    assert escape_mrkdwn("already &amp; escaped") == "already &amp;amp; escaped"
