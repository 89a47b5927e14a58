"""Slash commands, action_ids, callback_ids and block_ids: shared by the block builders and the handlers."""

from enum import StrEnum


class Command(StrEnum):
    BEACON = "/beacon"
    SCHEDULE = "/schedule"
    NOMINATE = "/nominate"
    AWARDS = "/awards"


class CallbackId(StrEnum):
    SCHEDULE_COMPOSE = "schedule_compose"
    SCHEDULE_PREVIEW = "schedule_preview"
    NOMINATE = "nominate"
    AWARDS_REVIEW = "awards_review"
    AWARDS_CANDIDATE = "awards_candidate"
    AWARDS_SCORE = "awards_score"
    AWARDS_OPEN = "awards_open"


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
    AWARDS_REVIEW_OPEN = "awards_review_open"
    AWARDS_ROUND_NEW = "awards_round_new"
    AWARDS_AWARD = "awards_award"
    AWARDS_PAGE = "awards_page"
    AWARDS_CANDIDATE_OPEN = "awards_candidate_open"
    AWARDS_SCORE_OPEN = "awards_score_open"
    AWARDS_SHORTLIST = "awards_shortlist"
    AWARDS_WINNER = "awards_winner"
    AWARDS_CONFLICT = "awards_conflict"
    WINNER_CONSENT_GIVE = "winner_consent_give"
    WINNER_CONSENT_DECLINE = "winner_consent_decline"


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
    AWARDS_SCORE_VALUE = "awards_score_value"
    AWARDS_SCORE_LEVEL = "awards_score_level"
    AWARDS_SCORE_NOTE = "awards_score_note"
    AWARDS_ROUND_NAME = "awards_round_name"
    AWARDS_ROUND_CLOSES = "awards_round_closes"
