"""Block Kit for nominations: the modal (which changes with the award chosen) and the App Home sections."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ConfirmObject,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    UserMultiSelectElement,
)
from slack_sdk.models.blocks.basic_components import MarkdownTextObject, PlainTextObject
from slack_sdk.models.views import View

from beacon.bot.blocks.mrkdwn import listing, mention, quote, truncate
from beacon.bot.content import Content
from beacon.bot.escaping import escape_mrkdwn
from beacon.bot.ids import ActionId, BlockId, CallbackId
from beacon.bot.models import Award, Nomination, Nominee
from beacon.bot.services.nominations import STORY_MAX, Recognition

SHARE, HIDE_NAME, NO_PATIENT_DETAILS = "share_publicly", "hide_nominator", "no_patient_details"
STORY_HINT = ("What did they do, and what difference did it make? Say which values and behaviours you saw. "
              "Leave out anything that could identify a patient: names, ages, addresses, dates, NHS numbers.")
NOT_ON_SLACK_HINT = "One person a line: name, role, site. For example: Sam Jones, Emergency Care Assistant, Bedford"


def _option(value: str, text: str, description: str | None = None, *, mrkdwn: bool = False) -> Option:
    # Slack refuses an option whose text or description is over 75 characters (the whole modal fails to open).
    label: Any = MarkdownTextObject(text=truncate(text, 75)) if mrkdwn else PlainTextObject(text=truncate(text, 75))
    return Option(value=value, text=label,
                  description=PlainTextObject(text=truncate(description, 75)) if description else None)


def build_nominate_modal(*, content: Content, framework: str, award: str | None = None,
                         colleagues: list[str] | None = None, can_enter_for_others: bool = False,
                         editing: tuple[Nomination, list[Nominee]] | None = None) -> dict[str, Any]:
    """The nomination modal. Behaviours appear only for the Leadership award (views.update on choosing)."""
    nomination, nominees = editing if editing else (None, [])
    # Names not on Slack come back one a line as "name, role, site": that can be longer than what was typed
    # ("a,b,c" comes back as "a, b, c"), so the field grows to hold it rather than refuse to open.
    not_on_slack = "\n".join(", ".join(p for p in (n.name, n.role, n.site) if p) for n in nominees if not n.user_id)
    if nomination is not None:
        award = award or nomination.award
        colleagues = [n.user_id for n in nominees if n.user_id]
    awards = [*content.awards, content.thank_you]
    award_options = [_option(a.key, a.name, a.description) for a in awards]
    chosen = next((o for o in award_options if o.value == award), None)
    value_options = [_option(v.key, f"{v.emoji} *{escape_mrkdwn(v.name)}*", v.description, mrkdwn=True)
                     for v in content.active_values()]
    blocks: list[Block] = [
        InputBlock(block_id=BlockId.NOMINATE_COLLEAGUES, label="Colleague(s) on Slack", optional=True,
                   hint="Choose several people for a crew or team nomination.",
                   element=UserMultiSelectElement(action_id=BlockId.NOMINATE_COLLEAGUES, placeholder="Choose people",
                                                  initial_users=colleagues or None, max_selected_items=20)),
        InputBlock(block_id=BlockId.NOMINATE_NOT_ON_SLACK, label="Not on Slack?", optional=True,
                   hint=NOT_ON_SLACK_HINT,
                   element=PlainTextInputElement(
                       action_id=BlockId.NOMINATE_NOT_ON_SLACK, multiline=True,
                       max_length=min(3000, max(1000, len(not_on_slack))), initial_value=not_on_slack or None)),
        InputBlock(block_id=BlockId.NOMINATE_AWARD, label="Award", dispatch_action=True,
                   element=RadioButtonsElement(action_id=ActionId.NOMINATE_AWARD, options=award_options,
                                               initial_option=chosen)),
        InputBlock(block_id=BlockId.NOMINATE_VALUES, label="Trust values they showed", optional=True,
                   element=CheckboxesElement(action_id=BlockId.NOMINATE_VALUES, options=value_options,
                                             initial_options=[o for o in value_options if nomination and
                                                              o.value in nomination.values] or None)),
    ]
    if award == Award.LEADERSHIP:
        model = content.frameworks[framework]
        options = [_option(b.key, b.name, b.description) for b in model.behaviours]
        blocks.append(InputBlock(
            block_id=BlockId.NOMINATE_BEHAVIOURS, label="Leadership behaviours they showed", optional=True,
            hint=f"From the {model.name}.",
            element=CheckboxesElement(action_id=BlockId.NOMINATE_BEHAVIOURS, options=options,
                                      initial_options=[o for o in options if nomination and
                                                       o.value in nomination.behaviours] or None)))
    share = _option(SHARE, "Share this publicly in the recognition channel, if they agree",
                    "They are asked first; nothing is posted without their yes.")
    hide = _option(HIDE_NAME, "Hide my name from them")
    blocks += [
        InputBlock(block_id=BlockId.NOMINATE_STORY, label="Their story", hint=STORY_HINT,
                   element=PlainTextInputElement(action_id=BlockId.NOMINATE_STORY, multiline=True,
                                                 max_length=STORY_MAX,
                                                 initial_value=nomination.story if nomination else None)),
        InputBlock(block_id=BlockId.NOMINATE_OPTIONS, label="Sharing", optional=True,
                   element=CheckboxesElement(action_id=BlockId.NOMINATE_OPTIONS, options=[share, hide],
                                             initial_options=[o for o, on in ((share, nomination and
                                                              nomination.share_publicly), (hide, nomination and
                                                              nomination.hide_nominator)) if on] or None)),
        InputBlock(block_id=BlockId.NOMINATE_NO_PATIENT_DETAILS, label="Patient confidentiality", optional=True,
                   element=CheckboxesElement(action_id=BlockId.NOMINATE_NO_PATIENT_DETAILS, options=[_option(
                       NO_PATIENT_DETAILS, "The story holds no patient-identifiable details")])),
    ]
    if can_enter_for_others:
        blocks.append(InputBlock(
            block_id=BlockId.NOMINATE_ON_BEHALF, label="Entering a paper or email nomination?", optional=True,
            hint="The name of the person who made it. Leave empty when the nomination is your own.",
            element=PlainTextInputElement(action_id=BlockId.NOMINATE_ON_BEHALF, max_length=120,
                                          initial_value=nomination.nominator_name if nomination else None)))
    return View(type="modal", callback_id=CallbackId.NOMINATE, title="Recognise a colleague",
                submit="Save changes" if nomination else "Send", close="Cancel",
                private_metadata=json.dumps({"editing": nomination.id if nomination else None}),
                blocks=blocks).to_dict()


def who(nominees: list[dict[str, Any]] | list[Nominee]) -> str:
    """Nominees as mrkdwn: Slack users as mentions, others by name, role and site (escaped)."""
    parts = []
    for n in nominees:
        user_id = n["user_id"] if isinstance(n, dict) else n.user_id
        if user_id:
            parts.append(mention(user_id))
        else:
            details = [n[k] if isinstance(n, dict) else getattr(n, k) for k in ("name", "role", "site")]
            name, *rest = [d for d in details if d]
            parts.append(escape_mrkdwn(name) + (f" ({escape_mrkdwn(', '.join(rest))})" if rest else ""))
    return listing(parts)


def _tags(recognition: Recognition, content: Content) -> str:
    n = recognition.nomination
    values = [content.value(v) for v in n.values]
    tags = " ".join(f"{v.emoji} {escape_mrkdwn(v.name)}" for v in values if v)
    behaviours = [content.behaviour(n.framework or "", b) for b in n.behaviours]
    if any(behaviours):
        tags += " · " + ", ".join(escape_mrkdwn(b.name) for b in behaviours if b)
    return tags


def build_received_section(items: list[Recognition], *, content: Content, tz: ZoneInfo) -> list[Block]:
    """Recognition a person has received: a private record of what colleagues saw in them."""
    blocks: list[Block] = [HeaderBlock(text="Recognition you have received")]
    if not items:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text="Nothing yet. When a colleague recognises you it is kept here, just for you.")))
    for item in items:
        n = item.nomination
        award = content.award(n.award)
        source = mention(item.nominator) if item.nominator else (
            escape_mrkdwn(n.nominator_name) if n.nominator_name and not n.hide_nominator else "A colleague")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(
            f"*{escape_mrkdwn(award.name if award else n.award)}* from {source}, "
            f"{n.created_at.astimezone(tz):%-d %b %Y}\n{_tags(item, content)}\n{quote(truncate(n.story, 600))}",
            3000))))
    return blocks


def build_made_section(items: list[Recognition], *, content: Content, tz: ZoneInfo) -> list[Block]:
    """Nominations a person has made, with edit and withdraw while they can still change."""
    blocks: list[Block] = [HeaderBlock(text="Nominations you have made")]
    if not items:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="None yet. Recognise a colleague with `/nominate`.")))
    for item in items:
        n = item.nomination
        award = content.award(n.award)
        status = "celebrated publicly" if n.public_ts else ("waiting for their yes" if n.share_publicly else "private")
        if n.public_ts and n.consented_version != n.content_version:
            status += ", with the words they agreed to; your changes wait for their yes"
        by = f" (for {escape_mrkdwn(n.nominator_name)})" if n.nominator_name else ""
        blocks.append(SectionBlock(text=MarkdownTextObject(text=truncate(
            f"*{escape_mrkdwn(award.name if award else n.award)}* for {who(item.nominees)}{by}, "
            f"{n.created_at.astimezone(tz):%-d %b %Y} · {status}"
            + (f" · {item.endorsements} endorsement(s)" if item.endorsements else "")
            + f"\n{_tags(item, content)}\n{quote(truncate(n.story, 300))}", 3000))))
        edit = ButtonElement(text="Edit", action_id=ActionId.NOMINATION_EDIT, value=str(n.id))
        if n.public_ts:  # still editable: the post keeps the agreed words until everyone agrees to new ones
            blocks.append(ActionsBlock(block_id=f"nomination_{n.id}", elements=[edit]))
        else:
            blocks.append(ActionsBlock(block_id=f"nomination_{n.id}", elements=[
                edit,
                ButtonElement(text="Withdraw", action_id=ActionId.NOMINATION_WITHDRAW, value=str(n.id),
                              style="danger", confirm=ConfirmObject(
                                  title="Withdraw this nomination?", confirm="Withdraw", deny="Keep it",
                                  text="It will no longer count for the award or appear in their record."))]))
    return blocks


def build_nominate_button() -> ActionsBlock:
    return ActionsBlock(elements=[ButtonElement(text="Recognise a colleague", action_id=ActionId.NOMINATE_NEW,
                                                value="new", style="primary")])


def build_consent_answered(blocks: list[dict[str, Any]], *, given: bool) -> list[dict[str, Any]]:
    """The nominee's DM once they have answered: the question goes, their answer and a way back stay."""
    kept = [b for b in blocks if b.get("block_id") not in ("consent", "consent_question", "consent_answer",
                                                            "consent_answer_text")]
    nomination = next((e["value"] for b in blocks if b.get("block_id") in ("consent", "consent_answer")
                       for e in b.get("elements", []) if e.get("value")), "")
    if given:
        answer = ("You said yes to these words: they will be shared in the recognition channel once everyone "
                  "named has agreed to them. If they are changed, you will be asked again.")
        change = ButtonElement(text="Take it down / keep it private", action_id=ActionId.CONSENT_DECLINE,
                               value=nomination)
    else:
        answer = "Kept private. It stays in your Home tab, just for you."
        change = ButtonElement(text="Share it after all", action_id=ActionId.CONSENT_GIVE, value=nomination)
    return [*kept, SectionBlock(block_id="consent_answer_text", text=MarkdownTextObject(text=answer)).to_dict(),
            ActionsBlock(block_id="consent_answer", elements=[change]).to_dict()]


def build_consent_out_of_date(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A yes clicked on words that have since changed: it is not counted, and the new words are on their way."""
    kept = [b for b in blocks if b.get("block_id") not in ("consent", "consent_question", "consent_answer",
                                                            "consent_answer_text")]
    note = ("These words have since been changed, so this yes was not counted. Beacon has sent you the new "
            "words: answer there. Nothing is shared until you do.")
    return [*kept, SectionBlock(block_id="consent_answer_text", text=MarkdownTextObject(text=note)).to_dict()]
