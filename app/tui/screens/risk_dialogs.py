"""Dialogs of the Systems and Risks screens: a system, a model version, a risk (add and edit),
a re-score, a treatment, an acceptance and a link. Each form checks its values with the
services' own checks before it closes, so a mistake keeps the form open with the error and the
input; scores are chosen from the matrix's named levels, so a score off the matrix cannot be
given. The write runs in a thread worker (`start_register_write`); if it fails, nothing was
written and the form opens again with what was typed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.widgets import Footer, Label, Select, Static, TextArea

from app.domain import risk as rk
from app.domain.controls import CONTROLS
from app.errors import CrosswalkError
from app.tui.markup import escape
from app.tui.messages import RegisterChanged, RegisterFailed
from app.tui.screens.evidence_dialogs import FormDialog, _field, _input, _select, split_list
from app.tui.widgets.plain_select import PlainSelect

if TYPE_CHECKING:
    from app.services.risk_matrices import MatrixView
    from app.services.risks import RiskDetail
    from app.services.systems import SystemDetail
    from app.store import Store
    from app.store.models import AiSystem

Draft = dict[str, str]
NONE = ""  # the value of a select's "none" option


# --------------------------------------------------------------------------- writes
def start_register_write(node: DOMNode, what: str, job: Callable[[], tuple[str, int | None]],
                         failed: str, reopen: Callable[[], object] | None = None,
                         title: str = "Risks") -> None:
    """Run `job` (a service call returning a summary and the id to show) in a thread worker;
    it posts `RegisterChanged`, or `RegisterFailed` for a CrosswalkError (the service wrote
    nothing), with `reopen` to give the user their form back. It never touches a widget."""

    def run() -> None:  # thread
        try:
            summary, target = job()
        except CrosswalkError as exc:
            node.post_message(RegisterFailed(failed, str(exc), reopen))
            return
        node.post_message(RegisterChanged(summary, target, title))

    node.run_worker(run, thread=True, group="register-write", exit_on_error=False,
                    description=what)


def _area(value: str, widget_id: str) -> TextArea:
    return TextArea(value, id=widget_id, soft_wrap=True, show_line_numbers=False)


def _text_field(label: str, value: str, widget_id: str) -> ComposeResult:
    yield Label(label)
    yield _area(value, widget_id)


class RegisterForm(FormDialog[Any]):
    """A form of the register (the evidence forms' base: ctrl+s checks, esc cancels)."""

    def values(self, ids: dict[str, str]) -> Draft:
        return {k: self.value(i) for k, i in ids.items()}


# --------------------------------------------------------------------------- systems
SYSTEM_IDS = {"name": "sy-name", "tier": "sy-tier", "tier_justification": "sy-justification",
              "operator_role": "sy-role", "lifecycle": "sy-lifecycle", "owner": "sy-owner",
              "annex_iii_area": "sy-annex", "purpose": "sy-purpose"}


@dataclass(slots=True)
class SystemForm:
    values: Draft
    fields: dict[str, Any]  # checked: what add_system / update_system take


class SystemDialog(RegisterForm):
    """A new AI system, or changes to one (`system` given): returns a `SystemForm` whose
    fields, when editing, are only those that changed."""

    SAVE_LABEL = "Save  ctrl+s"

    def __init__(self, system: AiSystem | None = None, draft: Draft | None = None) -> None:
        super().__init__()
        self.system = system
        start: Draft = {}
        if system is not None:
            start = {k: str(getattr(system, k) or "") for k in SYSTEM_IDS}
        self.draft = start | dict(draft or {})

    def compose(self) -> ComposeResult:
        v = self.draft
        heading = (f"[b]{rk.system_label(self.system.id or 0)}[/]  edit "
                   f"{escape(self.system.name)}\n[dim]every change is kept in its history[/]"
                   if self.system is not None else
                   "[b]Add an AI system[/]  [dim]to the inventory; its EU AI Act tier needs a "
                   "written justification[/]")
        with Vertical(id="system-form", classes="dialog evidence-form risk-form"):
            yield Static(heading)
            with VerticalScroll(classes="form-body"):
                with Horizontal(classes="form-row"):
                    yield _field("Name", _input(v.get("name", ""), "sy-name",
                                                "e.g. Credit scoring"))
                    yield _field("Owner", _input(v.get("owner", ""), "sy-owner",
                                                 "who answers for it"))
                with Horizontal(classes="form-row"):
                    yield _field("EU AI Act tier", _select(rk.TIERS, v.get("tier", "minimal"),
                                                           "sy-tier"))
                    yield _field("Operator role", _select(
                        rk.ROLES, v.get("operator_role", "deployer"), "sy-role"))
                    yield _field("Lifecycle", _select(
                        rk.LIFECYCLE, v.get("lifecycle", "development"), "sy-lifecycle"))
                yield _field("Annex III area (high-risk systems only)", PlainSelect(
                    [(f"{k}  {name}", k) for k, name in rk.ANNEX_III.items()],
                    value=v.get("annex_iii_area") or Select.NULL, prompt="none",
                    id="sy-annex", compact=True))
                yield from _text_field("Why this tier (justification)",
                                       v.get("tier_justification", ""), "sy-justification")
                yield from _text_field("Purpose", v.get("purpose", ""), "sy-purpose")
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sy-name").focus()

    def action_save(self) -> None:
        from app.services.systems import check_consistent, check_system

        values = self.values(SYSTEM_IDS)
        try:
            fields = check_system(**values)
            current = ({k: getattr(self.system, k) for k in SYSTEM_IDS}
                       if self.system is not None else {})
            check_consistent(current | fields)
        except CrosswalkError as exc:
            self.fail(str(exc))
            return
        if self.system is not None:
            fields = {k: val for k, val in fields.items() if getattr(self.system, k) != val}
        self.dismiss(SystemForm(values, fields))


@dataclass(slots=True)
class ModelForm:
    values: Draft
    version: str
    approval_status: str
    limitations: str


class ModelVersionDialog(RegisterForm):
    """Add a model version to a system, or change one's approval status or limitations."""

    SAVE_LABEL = "Save  ctrl+s"

    def __init__(self, detail: SystemDetail, draft: Draft | None = None) -> None:
        super().__init__()
        self.detail = detail
        latest = detail.models[-1] if detail.models else None
        start = {"version": latest.version, "approval_status": latest.approval_status,
                 "limitations": latest.limitations} if latest else {}
        self.draft = start | dict(draft or {})

    def compose(self) -> ComposeResult:
        v, d = self.draft, self.detail
        known = ", ".join(f"{escape(m.version)} ({m.approval_status})" for m in d.models) \
            or "none yet"
        with Vertical(id="model-form", classes="dialog evidence-form risk-form"):
            yield Static(f"[b]{d.label} model version[/]  {escape(d.system.name)}\n"
                         f"[dim]a new version, or a known one to change · known: {known}[/]")
            with Horizontal(classes="form-row"):
                yield _field("Version", _input(v.get("version", ""), "mv-version",
                                               "e.g. 3.1.0"))
                yield _field("Approval status", _select(
                    rk.MODEL_STATUSES, v.get("approval_status", "pending"), "mv-status"))
            yield from _text_field("Known limitations", v.get("limitations", ""),
                                   "mv-limitations")
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#mv-version").focus()

    def action_save(self) -> None:
        from app.services.systems import check_model_version

        values = self.values({"version": "mv-version", "approval_status": "mv-status",
                              "limitations": "mv-limitations"})
        try:
            version, _, limitations = check_model_version(
                values["version"], values["approval_status"], values["limitations"])
        except CrosswalkError as exc:
            self.fail(str(exc), "mv-version")
            return
        self.dismiss(ModelForm(values, version, values["approval_status"], limitations or ""))


# --------------------------------------------------------------------------- scores
def score_options(m: rk.Matrix, scale: str) -> list[tuple[str, int]]:
    levels = m.likelihood if scale == "likelihood" else m.impact
    return [(f"{i} {lv.name}", i) for i, lv in enumerate(levels, start=1)]


def _score_select(m: rk.Matrix, scale: str, value: int | None, widget_id: str) -> Select[int]:
    return PlainSelect(score_options(m, scale), value=value if value else Select.NULL,
                  prompt="—", id=widget_id, compact=True)


class _Scores:
    """Three stages × (likelihood, impact) selects of one matrix's named levels."""

    matrices: dict[str, rk.Matrix]

    def score_rows(self, m: rk.Matrix, start: dict[str, tuple[int, int] | None]
                   ) -> ComposeResult:
        for n, stage in enumerate(rk.STAGES):
            s = start.get(stage)
            likelihood = _score_select(m, "likelihood", s[0] if s else None, f"rk-{stage}-l")
            impact = _score_select(m, "impact", s[1] if s else None, f"rk-{stage}-i")
            with Horizontal(classes="form-row score-row" + (" -first" if not n else "")):
                yield Label(stage.capitalize(), classes="score-stage")
                if not n:  # the scales are named once, above the first stage
                    yield _field("Likelihood", likelihood)
                    yield _field("Impact", impact)
                else:
                    yield Vertical(likelihood, classes="field")
                    yield Vertical(impact, classes="field")

    def rescale(self: Any, m: rk.Matrix) -> None:
        """The matrix changed: offer its levels (the earlier choices no longer apply)."""
        for stage in rk.STAGES:
            for scale, suffix in (("likelihood", "l"), ("impact", "i")):
                self.query_one(f"#rk-{stage}-{suffix}", Select).set_options(
                    score_options(m, scale))

    def scores(self: Any) -> dict[str, str | None] | None:
        """"L/I" per stage (None: not scored); fails the form when half a score is given."""
        out: dict[str, str | None] = {}
        for stage in rk.STAGES:
            lk, im = self.value(f"rk-{stage}-l"), self.value(f"rk-{stage}-i")
            if bool(lk) != bool(im):
                self.fail(f"{stage}: choose both a likelihood and an impact, or neither",
                          f"rk-{stage}-{'i' if lk else 'l'}")
                return None
            out[stage] = f"{lk}/{im}" if lk else None
        return out


def _scores_of(detail: RiskDetail | None) -> dict[str, tuple[int, int] | None]:
    if detail is None:
        return {}
    return {s: ((sc.likelihood, sc.impact) if (sc := detail.stage(s)) else None)
            for s in rk.STAGES}


# --------------------------------------------------------------------------- add / edit risk
RISK_IDS = {"title": "rk-title", "system": "rk-system", "category": "rk-category",
            "owner": "rk-owner", "cause": "rk-cause", "event": "rk-event",
            "consequence": "rk-consequence", "knowledge": "rk-knowledge",
            "knowledge_justification": "rk-knowledge-why", "review_on": "rk-review-on",
            "review_every_days": "rk-review-every"}
FIELDS = ("title", "category", "owner", "cause", "event", "consequence", "knowledge",
          "knowledge_justification", "review_on", "review_every_days")


@dataclass(slots=True)
class RiskForm:
    """A checked risk form: `fields` for add_risk / update_risk, the raw `values`."""

    values: Draft
    fields: dict[str, Any]
    system: str
    matrix: str | None = None
    scores: dict[str, str | None] = field(default_factory=dict)
    controls: list[str] = field(default_factory=list)


class RiskDialog(RegisterForm, _Scores):
    """A new risk (title, system, category, matrix, the three scores, cause → event →
    consequence, owner, knowledge, review, controls), or changes to one (`detail` given:
    its descriptive fields, system and review; scores go through the re-score form)."""

    SAVE_LABEL = "Save  ctrl+s"

    def __init__(self, store: Store, systems: list[AiSystem], matrices: list[MatrixView],
                 detail: RiskDetail | None = None, draft: Draft | None = None) -> None:
        super().__init__()
        self.store, self.systems, self.detail = store, systems, detail
        self.matrices = {v.matrix.ref: v.matrix for v in matrices}
        start: Draft = {}
        if detail is not None:
            r = detail.risk
            start = {k: ("" if getattr(r, k) is None else str(getattr(r, k)))
                     for k in FIELDS} | {"system": str(r.system_id)}
        self.draft = start | dict(draft or {})

    def default_matrix(self) -> str:
        from app.services.risk_matrices import DEFAULT_MATRIX

        refs = list(self.matrices)
        wanted = self.draft.get("matrix")
        if wanted in self.matrices:
            return wanted
        same = [r for r in refs if r.startswith(DEFAULT_MATRIX + "@")]
        return same[-1] if same else refs[0]

    def compose(self) -> ComposeResult:
        v, d = self.draft, self.detail
        systems = [(f"{rk.system_label(s.id or 0)}  {s.name}", str(s.id)) for s in self.systems]
        if d is not None:
            heading = (f"[b]{d.label}[/]  edit {escape(d.risk.title)}\n[dim]scores change "
                       "through s (re-score); every change is audited[/]")
        else:
            heading = ("[b]Add a risk[/]  [dim]scored on the matrix you choose (pinned: "
                       "changing it later is a re-assessment)[/]")
        with Vertical(id="risk-form", classes="dialog evidence-form risk-form"):
            yield Static(heading)
            with VerticalScroll(classes="form-body"):
                yield _field("Title", _input(v.get("title", ""), "rk-title",
                                             "what could go wrong, in a few words"))
                with Horizontal(classes="form-row"):
                    yield _field("System", PlainSelect(systems, value=v.get("system") or (
                        systems[0][1] if systems else Select.NULL), allow_blank=not systems,
                        prompt="no systems: add one on 7 Systems", id="rk-system",
                        compact=True))
                    yield _field("Category", _select(rk.CATEGORIES,
                                                     v.get("category", "other"),
                                                     "rk-category"))
                    yield _field("Owner", _input(v.get("owner", ""), "rk-owner"))
                if d is None:
                    ref = self.default_matrix()
                    yield _field("Matrix", PlainSelect([(f"{r}  {m.name}", r)
                                                  for r, m in self.matrices.items()],
                                                 value=ref, allow_blank=False,
                                                 id="rk-matrix", compact=True))
                    yield from self.score_rows(self.matrices[ref], self._draft_scores())
                with Horizontal(classes="form-row"):
                    yield _field("Cause", _input(v.get("cause", ""), "rk-cause"))
                    yield _field("→ Event", _input(v.get("event", ""), "rk-event"))
                    yield _field("→ Consequence", _input(v.get("consequence", ""),
                                                         "rk-consequence"))
                with Horizontal(classes="form-row"):
                    yield _field("Strength of knowledge", _select(
                        rk.KNOWLEDGE, v.get("knowledge", "medium"), "rk-knowledge"))
                    yield _field("Review on", _input(v.get("review_on", ""), "rk-review-on",
                                                     "YYYY-MM-DD"))
                    yield _field("Review every (days)", _input(
                        v.get("review_every_days", ""), "rk-review-every", "e.g. 90"))
                yield _field("Why that strength of knowledge",
                             _input(v.get("knowledge_justification", ""), "rk-knowledge-why",
                                    "data, tests or expert judgement behind the scores"))
                if d is None:
                    yield _field("Controls that treat it (e.g. OPS-2, SEC-1)",
                                 _input(v.get("controls", ""), "rk-controls"))
            yield from self.buttons()
        yield Footer()

    def _draft_scores(self) -> dict[str, tuple[int, int] | None]:
        out: dict[str, tuple[int, int] | None] = {}
        for stage in rk.STAGES:
            text = self.draft.get(stage) or ""
            lk, _, im = text.partition("/")
            out[stage] = (int(lk), int(im)) if lk.isdigit() and im.isdigit() else None
        return out

    def on_mount(self) -> None:
        self._shown = self.value("rk-matrix") if self.detail is None else ""
        self.query_one("#rk-title").focus()

    @on(Select.Changed, "#rk-matrix")
    def _matrix_changed(self, event: Select.Changed) -> None:
        ref = str(event.value)
        if ref != getattr(self, "_shown", ref) and ref in self.matrices:
            self._shown = ref
            self.rescale(self.matrices[ref])

    def action_save(self) -> None:
        from app.services.risks import check_fields

        values = self.values(RISK_IDS)
        if self.detail is None:
            values["matrix"] = self.value("rk-matrix")
            values["controls"] = self.value("rk-controls")
        if not values["system"]:
            self.fail("choose the AI system the risk belongs to (add one on 7 Systems)")
            return
        given = {k: values[k] for k in FIELDS if values[k] or k == "title"}
        if self.detail is not None:  # a field emptied clears what it held (not the cadence)
            given |= {k: "" for k in FIELDS if not values[k] and k != "review_every_days"
                      and getattr(self.detail.risk, k) not in (None, "")}
        try:
            fields = check_fields(self.store, **given)
        except CrosswalkError as exc:
            self.fail(str(exc))
            return
        if self.detail is not None:
            r = self.detail.risk
            fields = {k: val for k, val in fields.items() if getattr(r, k) != val}
            system = values["system"] if values["system"] != str(r.system_id) else ""
            self.dismiss(RiskForm(values, fields, system))
            return
        scores = self.scores()
        if scores is None:
            return
        values |= {s: v or "" for s, v in scores.items()}
        controls = [c.upper() for c in split_list(values["controls"])]
        known = {c.id for c in CONTROLS}
        unknown = [c for c in controls if c not in known]
        if unknown:
            self.fail(f"no control {', '.join(unknown)} (the controls are "
                      f"{', '.join(sorted(known))})", "rk-controls")
            return
        self.dismiss(RiskForm(values, fields, values["system"], values["matrix"], scores,
                              controls))


# --------------------------------------------------------------------------- re-score
@dataclass(slots=True)
class ScoreForm:
    values: Draft
    scores: dict[str, str | None]
    matrix: str | None  # None: the pinned one
    note: str


class ScoreDialog(RegisterForm, _Scores):
    """Re-score a risk on its pinned matrix, or on another one (a re-assessment: every stage
    that was scored must be scored again)."""

    SAVE_LABEL = "Re-score  ctrl+s"

    def __init__(self, detail: RiskDetail, matrices: list[MatrixView],
                 draft: Draft | None = None) -> None:
        super().__init__()
        self.detail = detail
        self.matrices = {v.matrix.ref: v.matrix for v in matrices}
        self.pinned = detail.matrix.ref
        self.matrices.setdefault(self.pinned, detail.matrix)
        self.draft = dict(draft or {})

    def compose(self) -> ComposeResult:
        d = self.detail
        ref = self.draft.get("matrix") or self.pinned
        m = self.matrices.get(ref, d.matrix)
        start = _scores_of(d) if ref == self.pinned else {}
        for stage in rk.STAGES:
            lk, _, im = (self.draft.get(stage) or "").partition("/")
            if lk.isdigit() and im.isdigit():
                start[stage] = (int(lk), int(im))
        options = [(f"{r}  {mx.name}" + ("  (pinned)" if r == self.pinned else
                                         "  (re-assessment)"), r)
                   for r, mx in self.matrices.items()]
        with Vertical(id="score-form", classes="dialog evidence-form risk-form"):
            yield Static(f"[b]Re-score {d.label}[/]  {escape(d.risk.title)}\n[dim]appends an "
                         f"assessment to its history · pinned on {self.pinned}[/]")
            with VerticalScroll(classes="form-body"):
                yield _field("Matrix", PlainSelect(options, value=ref, allow_blank=False,
                                              id="rk-matrix", compact=True))
                yield from self.score_rows(m, start)
                yield _field("Note", _input(self.draft.get("note", ""), "rk-note",
                                            "why the scores changed"))
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self._shown = self.value("rk-matrix")
        self.query_one("#rk-inherent-l").focus()

    @on(Select.Changed, "#rk-matrix")
    def _matrix_changed(self, event: Select.Changed) -> None:
        ref = str(event.value)
        if ref != getattr(self, "_shown", ref) and ref in self.matrices:
            self._shown = ref
            self.rescale(self.matrices[ref])
            if ref == self.pinned:  # back on the pinned matrix: its scores again
                for stage, s in _scores_of(self.detail).items():
                    if s:
                        self.query_one(f"#rk-{stage}-l", Select).value = s[0]
                        self.query_one(f"#rk-{stage}-i", Select).value = s[1]

    def action_save(self) -> None:
        scores = self.scores()
        if scores is None:
            return
        ref = self.value("rk-matrix")
        values = {s: v or "" for s, v in scores.items()} | {"matrix": ref,
                                                             "note": self.value("rk-note")}
        if not any(scores.values()):
            self.fail("score at least one stage")
            return
        if ref != self.pinned:
            missing = [s for s, v in _scores_of(self.detail).items() if v and not scores[s]]
            if missing:
                self.fail(f"moving to {ref} is a re-assessment: score "
                          f"{', '.join(missing)} again on it")
                return
        try:
            from app.domain.text import clean_text

            note = clean_text(values["note"], "the note", 500)
        except ValueError as exc:
            self.fail(str(exc), "rk-note")
            return
        self.dismiss(ScoreForm(values, scores, None if ref == self.pinned else ref, note))


# --------------------------------------------------------------------------- treat / accept
class TreatDialog(RegisterForm):
    """Choose the treatment (acceptance has its own form: it needs an approver)."""

    SAVE_LABEL = "Treat  ctrl+s"

    def __init__(self, detail: RiskDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        d = self.detail
        choices = tuple(t for t in rk.TREATMENTS if t != "accept")
        now = d.risk.treatment if d.risk.treatment in choices else choices[0]
        with Vertical(id="treat-form", classes="dialog evidence-form risk-form"):
            yield Static(f"[b]Treat {d.label}[/]  {escape(d.risk.title)}\n[dim]now: "
                         f"{d.risk.treatment} · to accept it, press A (needs an approver)[/]")
            yield _field("Treatment", _select(choices, now, "rk-treatment"))
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#rk-treatment").focus()

    def action_save(self) -> None:
        self.dismiss(self.value("rk-treatment"))


@dataclass(slots=True)
class AcceptForm:
    values: Draft
    approver: str
    justification: str
    expires: str


class AcceptDialog(RegisterForm):
    """Accept a risk: who approved it, why, and until when (a date after today)."""

    SAVE_LABEL = "Accept  ctrl+s"

    def __init__(self, store: Store, detail: RiskDetail, draft: Draft | None = None) -> None:
        super().__init__()
        self.store, self.detail = store, detail
        r = detail.risk
        start = {"approver": r.accepted_by or "", "justification":
                 r.acceptance_justification or "", "expires": r.acceptance_expires or ""}
        self.draft = start | dict(draft or {})

    def compose(self) -> ComposeResult:
        d, v = self.detail, self.draft
        level = (sc.level if (sc := d.stage("residual") or d.stage("current")
                              or d.stage("inherent")) else "unscored")
        with Vertical(id="accept-form", classes="dialog evidence-form risk-form"):
            yield Static(f"[b]Accept {d.label}[/]  {escape(d.risk.title)}\n[dim]level "
                         f"{escape(level)} · an acceptance needs an approver, a justification "
                         "and an expiry[/]")
            with Horizontal(classes="form-row"):
                yield _field("Approver", _input(v["approver"], "rk-approver",
                                                "who accepts the risk"))
                yield _field("Expires", _input(v["expires"], "rk-expires", "YYYY-MM-DD"))
            yield from _text_field("Justification", v["justification"], "rk-justification")
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#rk-approver").focus()

    def action_save(self) -> None:
        from app.services.risks import FieldInvalid, check_acceptance

        values = self.values({"approver": "rk-approver", "expires": "rk-expires",
                              "justification": "rk-justification"})
        try:
            who, why, until = check_acceptance(
                self.store, self.detail.label, approver=values["approver"],
                justification=values["justification"], expires=values["expires"])
        except FieldInvalid as exc:
            self.fail(str(exc), "rk-" + exc.field)
            return
        self.dismiss(AcceptForm(values, who, why, until))


# --------------------------------------------------------------------------- link
@dataclass(slots=True)
class RiskLinkForm:
    values: Draft
    controls: list[str] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


class RiskLinkDialog(RegisterForm):
    """Link the risk to a control, clauses and/or evidence."""

    SAVE_LABEL = "Link  ctrl+s"

    def __init__(self, detail: RiskDetail, draft: Draft | None = None) -> None:
        super().__init__()
        self.detail = detail
        self.draft = dict(draft or {})

    def compose(self) -> ComposeResult:
        d, v = self.detail, self.draft
        linked = [t for _, t in d.links]
        now = ", ".join(escape(t) for t in linked) or "nothing yet"
        with Vertical(id="risk-link-form", classes="dialog evidence-form risk-form"):
            yield Static(f"[b]Link {d.label}[/]  {escape(d.risk.title)}\n[dim]linked to: "
                         f"{now}[/]")
            yield _field("Control", PlainSelect([(f"{c.id}  {c.name}", c.id) for c in CONTROLS
                                            if c.id not in linked],
                                           value=v.get("control") or Select.NULL,
                                           prompt="no control", id="rk-link-control",
                                           compact=True))
            yield _field("Clauses (full refs, e.g. GDPR Art. 32(1)(b); EUAIA Art. 9)",
                         _input(v.get("clauses", ""), "rk-link-clauses"))
            yield _field("Evidence (e.g. EV-3, EV-7)",
                         _input(v.get("evidence", ""), "rk-link-evidence"))
            yield from self.buttons()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#rk-link-control").focus()

    def action_save(self) -> None:
        values = self.values({"control": "rk-link-control", "clauses": "rk-link-clauses",
                              "evidence": "rk-link-evidence"})
        form = RiskLinkForm(values, [values["control"]] if values["control"] else [],
                            split_list(values["clauses"]), split_list(values["evidence"]))
        if not (form.controls or form.clauses or form.evidence):
            self.fail("choose a control, or give a clause or a piece of evidence to link to")
            return
        self.dismiss(form)
