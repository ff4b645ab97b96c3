"""The demo's finished tabletop exercise: the model-drift playbook run on its shipped scenario
a month ago at ×4, with its log (became aware, the harm and containment decisions, the
escalation, the AI Act initial report), ratings for its five objectives, and an improvement
plan whose items became actions of a risk and of controls."""

from __future__ import annotations

from app.services.after_action import add_improvement, rate_objective
from app.services.demo_risks import StoryClock, _day
from app.services.exercises import close, create_exercise, get_exercise, log, start
from app.store import Store

SPEED = 4
# (scenario time h:mm, kind, who, text, inject, step, clock, containment)
LOG: tuple[tuple[str, str, str, str, str | None, int | None, str | None, bool], ...] = (
    ("0:12", "action", "ML on-call engineer", "Raw input counts, schema and the last "
     "feature-pipeline run are normal: not a pipeline fault. Ticket INC-2291 opened with the "
     "model version, the PSI breaches and the window.", "I1", 1, None, False),
    ("0:38", "escalation", "ML on-call engineer", "Paged the model owner; the drift is "
     "concentrated in the employment-status feature.", "I2", None, None, False),
    ("1:35", "action", "Model owner", "Sized the drift: PSI 0.41 on employment status for "
     "self-employed applicants; about 1,900 decisions since the app release.", "I3", 2, None,
     False),
    ("2:05", "aware", "Model risk manager", "Fairness band breached for self-employed "
     "applicants on a high-risk system: the team is aware of a possible serious incident.",
     "I4", None, None, False),
    ("2:12", "decision", "Model risk manager", "People may be harmed: open the AI Act "
     "serious-incident assessment; reasoning recorded in INC-2291.", None, 3, None, False),
    ("2:52", "decision", "Model owner", "Contain: route self-employed applications to manual "
     "underwriting (the documented fallback); rolling back to v4.1 rejected, the input itself "
     "changed meaning.", "I5", 4, None, True),
    ("3:18", "action", "ML platform engineer", "Snapshot of inputs, scores and monitoring "
     "data for the drift window kept under legal hold.", "I6", 5, None, False),
    ("4:41", "notification", "Compliance lead", "Initial report sent to the market "
     "surveillance authority, marked incomplete as Art. 73 allows; follow-up in five days.",
     "I8", None, "ai-act-73", False),
    ("5:50", "action", "Data scientist", "Cause found: the onboarding app's new employment "
     "question maps 'contractor' to self-employed. Fix and retraining planned through the "
     "pipeline.", "I9", 6, None, False),
    ("5:58", "action", "Business process owner", "Review of the 1,900 decisions started; "
     "adverse ones re-decided by an underwriter.", "I10", 8, None, False),
)
RATINGS: tuple[tuple[str, str, str, str], ...] = (
    ("O1", "P", "Pipeline fault ruled out in 12 minutes, with the ticket complete.", ""),
    ("O2", "S", "Segment sizing was quick once the owner joined.",
     "The decision count needed a manual query; no ready report by segment."),
    ("O3", "S", "The harm decision was reasoned and time-stamped.",
     "It came 2 h 12 min after the first alert; the fairness band was not on the dashboard."),
    ("O4", "M", "The fallback was the right one.",
     "No named approver for manual underwriting; the rollback was argued for 20 minutes."),
    ("O5", "P", "Three improvement items with owners before the hot wash ended.", ""),
)


def _ms(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return (int(hours) * 3600 + int(minutes) * 60) * 1000


def create_demo_exercise(store: Store, clock: StoryClock) -> None:
    """Run and close the drift exercise, then write its after-action report."""
    view = create_exercise(store, "model-drift", speed=SPEED,
                           title="Credit model drift tabletop (Q3 drill)")
    start(store, view.id)
    now_ms = 0
    for at, kind, who, text, inject, step, reg_clock, containment in LOG:
        clock.advance((_ms(at) - now_ms) / 1000 / SPEED)
        now_ms = get_exercise(store, view.id).now_ms(clock())
        log(store, view.id, kind, text, actor=who, inject=inject, step=step, clock=reg_clock,
            containment=containment)
    clock.advance((_ms("6:10") - now_ms) / 1000 / SPEED)
    close(store, view.id)
    clock.advance(3600)  # the hot wash
    for objective, grade, strengths, improvements in RATINGS:
        rate_objective(store, view.id, objective, grade, strengths=strengths,
                       improvements=improvements)
    add_improvement(store, view.id, "Add a data-contract check on the meaning of onboarding "
                    "inputs, so a changed question fails the pipeline", "ML Platform Lead",
                    _day(clock, 75), objective="O2", control="OPS-2")
    add_improvement(store, view.id, "Name the approver of the manual-underwriting fallback "
                    "and rehearse the switch", "Head of Credit Analytics", _day(clock, 60),
                    objective="O4", risk="RK-2")
    add_improvement(store, view.id, "Keep a pre-filled AI Act Art. 73 initial-report template "
                    "and put the fairness band on the monitoring dashboard",
                    "Head of Compliance", _day(clock, 90), objective="O3", control="SEC-4")
