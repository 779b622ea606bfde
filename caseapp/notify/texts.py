"""The citizen notices in Chinese and English, and their SMS template ids.

Chinese SMS gateways send only registered templates: a notice goes out as a template id
with parameters. The texts here are what the log and email backends show and what the
registered templates say; the ids are set per city (SMS_TEMPLATE_IDS).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from caseapp.i18n import local_deadline

TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    # template: {language: (email subject, text)}
    "receipt": {
        "zh_CN": ("诉求已收到", "您的诉求已收到，编号{number}。我们将在{accept_by}前受理。"),
        "en": (
            "Request received",
            "Your request {number} was received. It will be accepted by {accept_by}.",
        ),
    },
    "acceptance": {
        "zh_CN": (
            "诉求已受理",
            "您的诉求{number}已受理，由{department}办理，预计{resolve_by}前答复。",
        ),
        "en": (
            "Request accepted",
            "Your request {number} was accepted; {department} will answer by {resolve_by}.",
        ),
    },
    "rejection": {
        "zh_CN": ("诉求不予受理", "您的诉求{number}不予受理：{reason}"),
        "en": ("Request not accepted", "Your request {number} was not accepted: {reason}"),
    },
    "question": {
        "zh_CN": ("请补充情况", "关于诉求{number}，请您补充：{question}"),
        "en": ("Please tell us more", "About your request {number}, please tell us: {question}"),
    },
    "answer": {
        "zh_CN": ("诉求已办结", "您的诉求{number}已办结：{answer} 请对答复进行评价。"),
        "en": (
            "Request answered",
            "Your request {number} was answered: {answer} Please rate the answer.",
        ),
    },
    "redo": {
        "zh_CN": ("诉求重新办理", "您的诉求{number}将重新办理。"),
        "en": ("Request reopened", "Your request {number} will be worked on again."),
    },
    "closing": {
        "zh_CN": ("诉求已归档", "您的诉求{number}已办结归档，感谢您的参与。"),
        "en": ("Request closed", "Your request {number} is closed. Thank you."),
    },
    "review": {
        "zh_CN": ("复查申请已登记", "您对{number}的复查申请已登记，编号{review_number}。"),
        "en": (
            "Review requested",
            "Your request for review of {number} was filed as {review_number}.",
        ),
    },
    "deadline_moved": {
        "zh_CN": (
            "诉求时限调整",
            "根据法定节假日安排，您的诉求{number}预计{what}的日期调整为{date}。",
        ),
        "en": (
            "New date for your request",
            "Under the official holiday schedule, your request {number} will now be "
            "{what} by {date}.",
        ),
    },
    "extension": {
        "zh_CN": ("诉求办理时限延长", "您的诉求{number}办理时限已延长，预计{resolve_by}前答复。"),
        "en": (
            "More time for your request",
            "Your request {number} needs more time; it will be answered by {resolve_by}.",
        ),
    },
    "staff_escalation": {
        "zh_CN": (
            "案件预警 {number}",
            "案件{number}（{title}）{level}：{clock}时限{due}，请及时处理。",
        ),
        "en": (
            "Case alert {number}",
            "Case {number} ({title}) is {level}: the {clock} deadline is {due}.",
        ),
    },
    "staff_urged": {
        "zh_CN": ("案件督办 {number}", "案件{number}（{title}）被督办：{text}"),
        "en": ("Case urged {number}", "Case {number} ({title}) was urged: {text}"),
    },
    "staff_approval_waiting": {
        "zh_CN": ("待审批 {number}", "案件{number}（{title}）的{kind}等待您审批。"),
        "en": (
            "Waiting for your decision {number}",
            "The {kind} on case {number} ({title}) waits for your decision.",
        ),
    },
    "staff_extension_waiting": {
        "zh_CN": ("待审批 {number}", "案件{number}（{title}）申请延期{days}天，等待您审批。"),
        "en": (
            "Waiting for your decision {number}",
            "Case {number} ({title}): an extension of {days} days waits for your decision.",
        ),
    },
    "staff_approval_decided": {
        "zh_CN": ("审批结果 {number}", "案件{number}（{title}）的{kind}{approved}。"),
        "en": ("Decision {number}", "The {kind} on case {number} ({title}) {approved}."),
    },
    "staff_extension_approved": {
        "zh_CN": (
            "延期已同意 {number}",
            "案件{number}（{title}）的延期申请已同意，新的办理时限为{due}。",
        ),
        "en": (
            "Extension approved {number}",
            "The extension of case {number} ({title}) was approved; the new deadline is {due}.",
        ),
    },
    "staff_assigned": {
        "zh_CN": ("分派给您 {number}", "案件{number}（{title}）已分派给您办理。"),
        "en": ("Assigned to you {number}", "Case {number} ({title}) was assigned to you."),
    },
    "staff_citizen_answered": {
        "zh_CN": ("群众已回复 {number}", "案件{number}（{title}）的群众已回复：{text}"),
        "en": (
            "The citizen answered {number}",
            "On case {number} ({title}) the citizen wrote: {text}",
        ),
    },
    "staff_rated_unsatisfied": {
        "zh_CN": ("群众不满意 {number}", "案件{number}（{title}）评价为不满意，需重新办理。"),
        "en": (
            "Rated unsatisfied {number}",
            "Case {number} ({title}) was rated unsatisfied and is to be worked on again.",
        ),
    },
    "access_code": {
        "zh_CN": ("验证码", "您查询诉求{number}的验证码是{code}，{minutes}分钟内有效。"),
        "en": (
            "Your code",
            "Your code for request {number} is {code}, valid for {minutes} minutes.",
        ),
    },
}

DEFAULT_SMS_TEMPLATE_IDS = {name: f"SMS_CASEAPP_{name.upper()}" for name in TEXTS}

# Parameter values that are codes, shown as words in the recipient's language.
WORDS: dict[str, dict[str, dict[str, str]]] = {
    "zh_CN": {
        "kind": {"extension": "延期申请", "return": "退单申请", "redo": "再次重办申请"},
        "approved": {"True": "已获同意", "False": "未获同意"},
        "clock": {
            "accept": "受理",
            "sign": "签收",
            "first_response": "首次响应",
            "resolve": "办结",
        },
        "level": {"1": "即将到期", "2": "已超期", "3": "督办中"},
        "what": {"accept": "受理", "resolve": "答复"},
    },
    "en": {
        "kind": {
            "extension": "extension request",
            "return": "late return request",
            "redo": "further redo",
        },
        "approved": {"True": "was approved", "False": "was denied"},
        "clock": {
            "accept": "accept",
            "sign": "sign-for",
            "first_response": "first-response",
            "resolve": "resolve",
        },
        "level": {"1": "due soon", "2": "overdue", "3": "supervised"},
        "what": {"accept": "accepted", "resolve": "answered"},
    },
}


class _Blank(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return ""


# Parameters that hold a moment (stored as ISO text in UTC): shown as the pages show a
# deadline, in the city's time zone, one at midnight as 24:00 of the day before.
TIME_PARAMS = frozenset({"accept_by", "resolve_by", "due"})


# ``department_en`` beside ``department``: the English name, shown to English readers.
ENGLISH_SUFFIX = "_en"


def shown_params(language: str, params: Mapping[str, Any]) -> dict[str, str]:
    """The parameters as a notice shows them: moments in the city's time, codes as words
    of ``language`` (also what an SMS gateway's registered template is given)."""
    words = WORDS.get(language, WORDS["zh_CN"])
    shown: dict[str, str] = {}
    for k, v in params.items():
        if k.endswith(ENGLISH_SUFFIX):
            continue
        if language == "en" and params.get(k + ENGLISH_SUFFIX):
            v = params[k + ENGLISH_SUFFIX]  # a name the city gave in English too
        shown[k] = local_deadline(v) if k in TIME_PARAMS else words.get(k, {}).get(str(v), str(v))
    return shown


def render(template: str, language: str, params: Mapping[str, Any]) -> tuple[str, str]:
    """(subject, text) of a notice in the recipient's language (Chinese if unknown).
    Needs the app's context for the city's time zone."""
    texts = TEXTS[template]
    language = language if language in texts else "zh_CN"
    subject, text = texts[language]
    values = shown_params(language, params)
    return subject.format_map(_Blank(values)), text.format_map(_Blank(values))
