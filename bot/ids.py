"""Slash commands, action_ids, callback_ids and block_ids: shared by the block builders and the handlers."""

from enum import StrEnum


class Command(StrEnum):
    BEACON = "/beacon"
    SCHEDULE = "/schedule"


class CallbackId(StrEnum):
    SCHEDULE_COMPOSE = "schedule_compose"
    SCHEDULE_PREVIEW = "schedule_preview"


class ActionId(StrEnum):
    SCHEDULE_NEW = "schedule_new"
    SCHEDULE_EDIT = "schedule_edit"
    SCHEDULE_PAUSE = "schedule_pause"
    SCHEDULE_RESUME = "schedule_resume"
    SCHEDULE_CANCEL = "schedule_cancel"
    SCHEDULE_APPROVE = "schedule_approve"
    SCHEDULE_REJECT = "schedule_reject"


class BlockId(StrEnum):
    """Input blocks; each input's action_id is the same string, so the two never disagree."""

    SCHEDULE_CHANNELS = "schedule_channels"
    SCHEDULE_MESSAGE = "schedule_message"
    SCHEDULE_DAY = "schedule_day"
    SCHEDULE_TIME = "schedule_time"
    SCHEDULE_REPEAT = "schedule_repeat"
    SCHEDULE_UNTIL = "schedule_until"
    SCHEDULE_AUDIENCE = "schedule_audience"
