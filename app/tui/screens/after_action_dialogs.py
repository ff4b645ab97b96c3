"""Dialogs of the after-action report: rate an objective (P/S/M/U with its strengths and areas
for improvement), add an improvement-plan item (action, owner, due date, and optionally its
objective, the risk it treats and the control it is an action of), and link an item to a risk
or a control. Each form checks its values with the same checks the after-action service makes
before it closes, so a mistake keeps the form open — with the error inside it and as a
notification — and keeps what was typed. The screen runs the write itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Select, Static

from app.domain import exercise as ex
from app.domain.controls import CONTROLS
from app.domain.evidence import parse_date
from app.domain.text import clean_text
from app.tui.markup import escape
from app.tui.screens.evidence_dialogs import FormDialog, _field, _input
from app.tui.screens.risk_dialogs import _text_field
from app.tui.widgets.plain_select import PlainSelect

if TYPE_CHECKING:
    from app.services.exercises import Improvement, Rating
    from app.services.risk_register import RiskRow

T = TypeVar("T")
Draft = dict[str, str]


def risk_options(risks: list[RiskRow]) -> list[tuple[Text, str]]:
    """The register's risks as select options: ``RK-3  title (treatment)`` (plain text: a
    title is never read as markup)."""
    return [(Text(f"{r.label}  {r.title} ({r.treatment})"), r.label)
            for r in sorted(risks, key=lambda r: r.id)]


def pick(options: list[tuple[Text, str]], value: str | None) -> object:
    """`value` if it is one of `options`, else the blank (a draft may name a risk since
    removed)."""
    return value if value and any(v == value for _, v in options) else Select.NULL


def control_options() -> list[tuple[Text, str]]:
    """The twelve controls as select options: ``OPS-2  name``."""
    return [(Text(f"{c.id}  {c.name}"), c.id) for c in CONTROLS]


class AfterActionForm(FormDialog[T]):
    """A form of the after-action report: ctrl+s checks and closes, esc cancels; a mistake is
    shown in the form and as a notification, and the form stays open with its text."""

    CSS_PATH = "after_action.tcss"

    def fail(self, message: str, focus: str | None = None) -> None:
        super().fail(message, focus)
        self.notify(message, title="Not saved", severity="error", markup=False)

    def select(self, widget_id: str) -> str | None:
        return self.value(widget_id) or None


# --------------------------------------------------------------------------- rating
@dataclass(slots=True)
class RatingDraft:
    """A checked rating: what `rate_objective` takes."""

    objective: str
    rating: str
    strengths: str
    improvements: str


class RatingDialog(AfterActionForm[RatingDraft | None]):
    """Rate one objective P, S, M or U, with its strengths and areas for improvement."""

    SAVE_LABEL = "Rate  ctrl+s"

    def __init__(self, exercise: str, objective: ex.Objective, rating: Rating | None = None,
                 draft: RatingDraft | None = None) -> None:
        super().__init__()
        self.exercise, self.objective = exercise, objective
        if draft is None and rating is not None:
            draft = RatingDraft(objective.id, rating.rating, rating.strengths,
                                rating.improvements)
        self.draft = draft

    def compose(self) -> ComposeResult:
        o, d = self.objective, self.draft
        with Vertical(id="aa-rating-form", classes="dialog evidence-form aa-form"):
            yield Static(f"[b]Rate {escape(o.id)}[/]  [dim]{self.exercise} · after-action "
                         f"report[/]\n{escape(o.text)}", id="aa-form-title")
            yield _field("Rating", PlainSelect(
                [(f"{k}  {meaning}", k) for k, meaning in ex.RATINGS.items()],
                value=d.rating if d is not None and d.rating in ex.RATINGS else Select.NULL,
                prompt="choose P, S, M or U", id="aa-rating", compact=True))
            yield from _text_field("Strengths", d.strengths if d else "", "aa-strengths")
            yield from _text_field("Areas for improvement", d.improvements if d else "",
                                   "aa-areas")
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#aa-rating").focus()

    def action_save(self) -> None:
        rating = self.value("aa-rating")
        if rating not in ex.RATINGS:
            self.fail("choose a rating: P, S, M or U", "aa-rating")
            return
        texts = {}
        for key, widget, what in (("strengths", "aa-strengths", "the strengths"),
                                  ("improvements", "aa-areas",
                                   "the areas for improvement")):
            try:
                texts[key] = clean_text(self.value(widget), what, 5000, multiline=True)
            except ValueError as exc:
                self.fail(str(exc), widget)
                return
        self.dismiss(RatingDraft(self.objective.id, rating, texts["strengths"],
                                 texts["improvements"]))


# --------------------------------------------------------------------------- improvement
@dataclass(slots=True)
class ImprovementDraft:
    """A checked improvement item: what `add_improvement` takes, and the raw `values`."""

    values: Draft
    action: str
    owner: str
    due: str  # YYYY-MM-DD
    objective: str | None
    risk: str | None
    control: str | None


def link_fields(risks: list[RiskRow], draft: dict[str, str]) -> ComposeResult:
    """The risk and control an improvement item becomes an action of (both forms)."""
    risk_choices, control_choices = risk_options(risks), control_options()
    yield _field("Risk (treatment action)", PlainSelect(
        risk_choices, value=pick(risk_choices, draft.get("risk")),
        prompt="no risk" if risks else "no risks in the register", id="aa-risk",
        compact=True))
    yield _field("Control (control action)", PlainSelect(
        control_choices, value=pick(control_choices, draft.get("control")),
        prompt="no control", id="aa-control", compact=True))


class ImprovementDialog(AfterActionForm[ImprovementDraft | None]):
    """A new item of the improvement plan; linked to a risk, it becomes the risk's treatment
    action (a risk still "open" is then treated: mitigate)."""

    SAVE_LABEL = "Add  ctrl+s"

    def __init__(self, exercise: str, objectives: tuple[ex.Objective, ...],
                 risks: list[RiskRow], draft: Draft | None = None) -> None:
        super().__init__()
        self.exercise, self.objectives, self.risks = exercise, objectives, risks
        self.draft = dict(draft or {})

    def compose(self) -> ComposeResult:
        v = self.draft
        objectives = [(Text(f"{o.id}  {o.text}"), o.id) for o in self.objectives]
        with Vertical(id="aa-improvement-form", classes="dialog evidence-form aa-form"):
            yield Static(f"[b]Add an improvement item[/]  [dim]{self.exercise} · "
                         "improvement plan · linked to a risk, it becomes the risk's "
                         "treatment action[/]", id="aa-form-title")
            yield _field("Action", _input(v.get("action", ""), "aa-action",
                                          "what will be done"))
            with Horizontal(classes="form-row"):
                yield _field("Owner", _input(v.get("owner", ""), "aa-owner",
                                             "who answers for it"))
                yield _field("Due", _input(v.get("due", ""), "aa-due", "YYYY-MM-DD"))
            yield _field("Objective", PlainSelect(objectives, value=pick(objectives,
                                                       v.get("objective")), prompt="no objective",
                                             id="aa-objective", compact=True))
            with Horizontal(classes="form-row"):
                yield from link_fields(self.risks, v)
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#aa-action").focus()

    def action_save(self) -> None:
        values = {k: self.value(f"aa-{k}") for k in
                  ("action", "owner", "due", "objective", "risk", "control")}
        checked: dict[str, str] = {}
        for key, what, limit in (("action", "the action", 1000), ("owner", "the owner", 200)):
            try:
                checked[key] = clean_text(values[key], what, limit, required=True)
            except ValueError as exc:
                self.fail(str(exc), f"aa-{key}")
                return
        try:
            due = parse_date(values["due"], "the due date").isoformat()
        except ValueError as exc:
            self.fail(str(exc), "aa-due")
            return
        self.dismiss(ImprovementDraft(values, checked["action"], checked["owner"], due,
                                      values["objective"] or None, values["risk"] or None,
                                      values["control"] or None))


# --------------------------------------------------------------------------- link
@dataclass(slots=True)
class LinkDraft:
    """The risk and/or control to link an item to (at least one)."""

    values: Draft
    risk: str | None
    control: str | None


class ImprovementLinkDialog(AfterActionForm[LinkDraft | None]):
    """Make an item a risk's treatment action and/or a control's action."""

    SAVE_LABEL = "Link  ctrl+s"

    def __init__(self, item: Improvement, risks: list[RiskRow],
                 draft: Draft | None = None) -> None:
        super().__init__()
        self.item, self.risks = item, risks
        self.draft = dict(draft or {})

    def compose(self) -> ComposeResult:
        i, v = self.item, self.draft
        from app.domain.risk import risk_label

        now = ", ".join(x for x in (risk_label(i.risk_id) if i.risk_id else "",
                                    i.control_id or "") if x) or "nothing yet"
        with Vertical(id="aa-link-form", classes="dialog evidence-form aa-form"):
            yield Static(f"[b]Link {i.label}[/]  {escape(i.action)}\n[dim]linked to: "
                         f"{escape(now)} · a risk still open becomes treated: mitigate[/]",
                         id="aa-form-title")
            yield from link_fields(self.risks, v)
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#aa-risk").focus()

    def action_save(self) -> None:
        values = {"risk": self.value("aa-risk"), "control": self.value("aa-control")}
        if not (values["risk"] or values["control"]):
            self.fail("choose a risk or a control to link the item to", "aa-risk")
            return
        self.dismiss(LinkDraft(values, values["risk"] or None, values["control"] or None))
