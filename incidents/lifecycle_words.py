"""The words people read for the case lifecycle's states, staff roles and actions.

The lifecycle's ids (``in_process``, ``intake_clerk``, ``check_fail``) are for the store, the
command line and scripts. A desk shows these names instead, in the user's language (the zh_CN
desk showed "new → reported" and "intake_clerk" in a case's history, issue 20), and so do the
errors a desk may see. One table for the GUI, the reports and the messages.
"""

from __future__ import annotations

from citydesk.layers.i18n import N_, _

from .lifecycle import Role, State

STATE_NAMES: dict[str, str] = {
    State.NEW: N_("not yet filed"),  # before a case's first event
    State.REPORTED: N_("reported"),
    State.VERIFIED: N_("verified"),
    State.ACCEPTED: N_("accepted"),
    State.REGISTERED: N_("registered"),
    State.DISPATCHED: N_("dispatched"),
    State.IN_PROCESS: N_("in process"),
    State.HANDLED: N_("handled"),
    State.CHECKED: N_("checked"),
    State.CLOSED: N_("closed"),
    State.CANCELLED: N_("cancelled"),
    State.SUSPENDED: N_("suspended"),
}
ROLE_NAMES: dict[str, str] = {
    Role.SUPERVISOR: N_("field supervisor"),
    Role.INTAKE: N_("intake clerk"),
    Role.SHIFT_CHIEF: N_("shift chief"),
    Role.DISPATCHER: N_("dispatcher"),
    Role.DEPARTMENT: N_("department crew"),
    Role.INSPECTOR: N_("inspector"),
    Role.ADMIN: N_("administrator"),
}
#: the roles as the desk's sign-in names them, with the 数字城管 term an English-speaking
#: desk still knows them by
ROLE_TITLES: dict[str, str] = {
    Role.SUPERVISOR: N_("Field supervisor (监督员)"),
    Role.INTAKE: N_("Intake clerk (受理员)"),
    Role.SHIFT_CHIEF: N_("Shift chief (值班长)"),
    Role.DISPATCHER: N_("Dispatcher (派遣员)"),
    Role.DEPARTMENT: N_("Department crew (专业部门)"),
    Role.INSPECTOR: N_("Inspector (核查员)"),
    Role.ADMIN: N_("Administrator"),
}
#: the steps as a desk's buttons name them (the imperative; 立案, 结案 and 挂账 are the
#: 数字城管 terms the desks know them by)
ACTION_VERBS: dict[str, str] = {
    "report": N_("Report"),
    "verify": N_("Verify"),
    "accept": N_("Accept"),
    "cancel": N_("Cancel case"),
    "register": N_("Register (立案)"),
    "dispatch": N_("Dispatch..."),
    "return_to_dispatch": N_("Return to dispatch"),
    "start": N_("Start work"),
    "handle": N_("Mark handled"),
    "check_pass": N_("Check passed"),
    "check_fail": N_("Check failed"),
    "close": N_("Close (结案)"),
    "suspend": N_("Suspend (挂账)"),
    "resume": N_("Resume"),
    "reopen": N_("Reopen"),
    "request_extension": N_("Ask for more time (申请延期)"),
    "extend": N_("Extend the time limit (延期)..."),
    "refuse_extension": N_("Refuse more time"),
    "urge": N_("Urge the department (督办)"),
    "close_imported": N_("Close as imported"),
    "source_update": N_("Record a source update"),
}
#: what an event of the history says happened
ACTION_NAMES: dict[str, str] = {
    "report": N_("reported"),
    "verify": N_("verified on site"),
    "accept": N_("accepted"),
    "cancel": N_("cancelled"),
    "register": N_("registered"),
    "dispatch": N_("dispatched"),
    "return_to_dispatch": N_("returned to dispatch"),
    "start": N_("work started"),
    "handle": N_("handled"),
    "check_pass": N_("check passed"),
    "check_fail": N_("check failed"),
    "close": N_("closed"),
    "suspend": N_("suspended"),
    "resume": N_("resumed"),
    "reopen": N_("reopened"),
    "request_extension": N_("more time asked for"),
    "extend": N_("time limit extended"),
    "refuse_extension": N_("more time refused"),
    "urge": N_("urged (督办)"),
    "close_imported": N_("closed in the source system"),
    "source_update": N_("update from the source system"),
}


def state_name(state: str) -> str:
    return _(STATE_NAMES[state]) if state in STATE_NAMES else str(state)


def role_name(role: str) -> str:
    return _(ROLE_NAMES[role]) if role in ROLE_NAMES else str(role)


def action_name(action: str) -> str:
    """What the history says happened (past tense)."""
    return _(ACTION_NAMES[action]) if action in ACTION_NAMES else str(action)


def action_verb(action: str) -> str:
    """The step as its button names it, without the dialog dots."""
    return _(ACTION_VERBS[action]).rstrip(".…") if action in ACTION_VERBS else str(action)
