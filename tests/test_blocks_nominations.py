"""Builders for nominations: the modal in each shape, the home sections and the nomination messages."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from beacon.bot.blocks.nominations import build_made_section, build_nominate_modal, build_received_section
from beacon.bot.blocks.notices import render
from beacon.bot.content import load_content
from beacon.bot.models import Nomination, Nominee
from beacon.bot.services.nominations import Recognition
from tests.snapshots import assert_snapshot

CONTENT = load_content()
WHEN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def _nomination(**overrides: object) -> Nomination:
    values: dict = dict(id=3, nominator_id="U0BOB", award="leadership", story="She kept us <together> & calm.",
                        values=["care", "teamwork"], framework="healthcare_leadership_model",
                        behaviours=["leading_with_care"], share_publicly=True, hide_nominator=False,
                        created_at=WHEN, updated_at=WHEN)
    values.update(overrides)
    return Nomination(**values)


def test_the_modal_for_each_award_and_for_the_comms_team() -> None:
    plain = build_nominate_modal(content=CONTENT, framework="healthcare_leadership_model", colleagues=["U0ALICE"])
    assert_snapshot("nominate_modal_new", plain)
    leadership = build_nominate_modal(content=CONTENT, framework="healthcare_leadership_model", award="leadership",
                                      can_enter_for_others=True)
    assert [b["block_id"] for b in leadership["blocks"]] == [
        "nominate_colleagues", "nominate_not_on_slack", "nominate_award", "nominate_values", "nominate_behaviours",
        "nominate_story", "nominate_options", "nominate_no_patient_details", "nominate_on_behalf"]
    assert_snapshot("nominate_modal_leadership_comms", leadership)


def test_home_sections_hide_a_hidden_nominator_from_the_nominee() -> None:
    hidden = _nomination(hide_nominator=True)
    nominee = [Nominee(nomination_id=3, user_id="U0ALICE")]
    received = build_received_section([Recognition(hidden, nominee, nominator=None, endorsements=0)],
                                      content=CONTENT, tz=LONDON)
    text = str([b.to_dict() for b in received])
    assert "A colleague" in text and "U0BOB" not in text and "&lt;together&gt; &amp; calm" in text
    made = build_made_section([Recognition(_nomination(), nominee, nominator="U0BOB", endorsements=2)],
                              content=CONTENT, tz=LONDON)
    assert_snapshot("nominations_home_made", [b.to_dict() for b in made])


def test_nomination_messages() -> None:
    params = {"nomination_id": 3, "award": "values", "award_name": "Delivering Excellence through Values",
              "nominees": [{"user_id": "U0ALICE"}, {"user_id": None, "name": "Sam <Jones>", "role": "ECA",
                                                     "site": "Bedford"}],
              "values": [{"name": "Care", "emoji": ":heart:"}], "behaviours": [], "story": "Story <!here>",
              "nominator": "U0BOB", "nominator_name": None, "share_publicly": True, "recognition_channel": "C0RECOG",
              "replaced": False, "ask_consent": True, "endorsements": 2}
    for template in ("nomination_receipt", "nominee_recognised", "recognition_post"):
        text, blocks = render({"template": template, "params": params})
        assert "<!here>" not in text + str(blocks)
        if template != "nominee_recognised":  # that one speaks to the nominee: "nominated you"
            assert "Sam &lt;Jones&gt; (ECA, Bedford)" in text
        assert_snapshot(f"notice_{template}", {"text": text, "blocks": blocks})
