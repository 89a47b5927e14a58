"""Slash commands, action_ids, callback_ids and block_ids: shared by the block builders and the handlers."""

from enum import StrEnum


class Command(StrEnum):
    BEACON = "/beacon"
    SCHEDULE = "/schedule"
    NOMINATE = "/nominate"


class CallbackId(StrEnum):
    SCHEDULE_COMPOSE = "schedule_compose"
    SCHEDULE_PREVIEW = "schedule_preview"
    NOMINATE = "nominate"


class ActionId(StrEnum):
    SCHEDULE_NEW = "schedule_new"
    SCHEDULE_EDIT = "schedule_edit"
    SCHEDULE_PAUSE = "schedule_pause"
    SCHEDULE_RESUME = "schedule_resume"
    SCHEDULE_CANCEL = "schedule_cancel"
    SCHEDULE_APPROVE = "schedule_approve"
    SCHEDULE_REJECT = "schedule_reject"
    NOMINATE_NEW = "nominate_new"
    NOMINATE_AWARD = "nominate_award"          # choosing an award reshapes the modal
    NOMINATION_EDIT = "nomination_edit"
    NOMINATION_WITHDRAW = "nomination_withdraw"
    CONSENT_GIVE = "consent_give"
    CONSENT_DECLINE = "consent_decline"
    ENDORSE = "endorse"


class BlockId(StrEnum):
    """Input blocks; each input's action_id is the same string, so the two never disagree."""

    SCHEDULE_CHANNELS = "schedule_channels"
    SCHEDULE_MESSAGE = "schedule_message"
    SCHEDULE_DAY = "schedule_day"
    SCHEDULE_TIME = "schedule_time"
    SCHEDULE_REPEAT = "schedule_repeat"
    SCHEDULE_UNTIL = "schedule_until"
    SCHEDULE_AUDIENCE = "schedule_audience"
    NOMINATE_COLLEAGUES = "nominate_colleagues"
    NOMINATE_NOT_ON_SLACK = "nominate_not_on_slack"
    NOMINATE_AWARD = "nominate_award"
    NOMINATE_VALUES = "nominate_values"
    NOMINATE_BEHAVIOURS = "nominate_behaviours"
    NOMINATE_STORY = "nominate_story"
    NOMINATE_OPTIONS = "nominate_options"
    NOMINATE_NO_PATIENT_DETAILS = "nominate_no_patient_details"
    NOMINATE_ON_BEHALF = "nominate_on_behalf"
