"""The after-action report of one exercise, pushed over the Exercises screen
(`app.push_screen(AfterActionScreen(n))`; esc goes back). Under the exercise banner: the
exercise (playbook, scenario, when it ran, its final clock), the metrics (times to detection,
first decision and containment decision; injects answered within their window, late or not at
all; the regulatory clocks met, missed, open at close or not applicable; the playbook steps
completed), the objectives with their P/S/M/U ratings (`r` or Enter rates one), the
improvement plan (`i` adds an item, `l` links one to a risk or a control, `x` marks it done
or open again), and the latency of every inject and the outcome of every clock.

An exercise not closed yet shows its metrics so far, read-only: its report is written once
the runner closes it. Writes run in a thread worker; the report is read again after each."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.geometry import Region
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from app.domain import exercise as ex
from app.domain.risk import risk_label
from app.errors import CrosswalkError
from app.tui.markup import escape
from app.tui.messages import RegisterChanged, RegisterFailed
from app.tui.screens.after_action_dialogs import (
    ImprovementDialog,
    ImprovementDraft,
    ImprovementLinkDialog,
    LinkDraft,
    RatingDialog,
    RatingDraft,
)
from app.tui.screens.risk_dialogs import start_register_write
from app.tui.widgets.plain_table import PlainTable

if TYPE_CHECKING:
    from app.services.exercises import ExerciseView, Improvement
    from app.services.risk_register import RiskRow
    from app.store import Store

TITLE = "After action"
INJECTS_WIDTH = 54  # the inject table's width beside the clocks (after_action.tcss)
# Rich styles (table cells are Rich text): the words carry the meaning, colour only helps
OUTCOME_STYLE = {"within": "green", "answered": "green", "met": "green",
                 "late": "bold yellow", "no response": "bold red", "missed": "bold red",
                 "open at close": "bold yellow", "running": "yellow",
                 "not released": "dim", "not applicable": "dim", "not started": "dim"}
RATING_STYLE = {"P": "bold green", "S": "bold green", "M": "bold yellow", "U": "bold red"}


def when(moment: str | None) -> str:
    """``2026-11-26T09:00:00.000Z`` → ``2026-11-26 09:00 UTC``."""
    return f"{moment[:10]} {moment[11:16]} UTC" if moment else "—"


def outcome_text(outcome: str) -> Text:
    """An outcome in words, coloured."""
    return Text(outcome, style=OUTCOME_STYLE.get(outcome, ""))


def count(items: list[str], *names: str) -> str:
    return " · ".join(f"{items.count(n)} {n}" for n in names)


def metrics_markup(m: ex.Metrics) -> str:
    """The metrics panel: times, injects, clocks, steps."""
    injects = [r.outcome for r in m.injects]
    clocks = [c.outcome for c in m.clocks]
    def row(label: str, value: str) -> str:
        return f"[b]{label:<29}[/] {value}"

    lines = [row("Time to detection", ex.format_span(m.detection_ms)),
             row("Time to first decision", ex.format_span(m.first_decision_ms)),
             row("Time to containment decision", ex.format_span(m.containment_ms)),
             f"[b]Injects[/]  {count(injects, 'within', 'late', 'no response')}"]
    extra = [f"{injects.count(n)} {n}" for n in ("answered", "not released")
             if injects.count(n)]
    if extra:
        lines.append(f"[dim]         {' · '.join(extra)}[/]")
    lines.append(f"[b]Clocks[/]   {count(clocks, 'met', 'missed')}")
    lines.append(f"         {count(clocks, 'open at close', 'not applicable')}")
    for name in ("running", "not started"):
        if clocks.count(name):
            lines.append(f"[dim]         {clocks.count(name)} {name}[/]")
    lines.append(f"[b]Steps[/]    {len(m.steps_done)} of {m.steps_total} completed")
    return "\n".join(lines)


def head_markup(v: ExerciseView, now_ms: int) -> str:
    """The exercise: id and title, playbook, scenario, when it ran, its clock."""
    state = "final clock" if v.status == "closed" else f"{v.status} · clock"
    return "\n".join([
        f"[b]{v.label}[/]  [b]{escape(v.title)}[/]",
        f"[dim]playbook[/] {escape(v.playbook.id)} — {escape(v.playbook.title)}",
        f"[dim]scenario[/] {escape(v.scenario_name or v.scenario.title)}",
        f"[dim]started[/] {when(v.started_at)}   [dim]closed[/] {when(v.closed_at)}",
        f"[dim]{state}[/] [b]{ex.format_offset(now_ms)}[/]   [dim]speed[/] ×{v.speed}"])


class AfterActionScreen(Screen[None]):
    """The after-action report of exercise `exercise_id` (see the module doc)."""

    HELP_TITLE = "After-action report"
    CSS_PATH = "after_action.tcss"
    AUTO_FOCUS = None  # focused in `on_mount`, without scrolling the report's top away
    NARROW_BELOW: ClassVar[int] = 100
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="after-action-back",
                tooltip="Back to the exercises"),
        Binding("r", "rate", "Rate", id="after-action-rate",
                tooltip="Rate the highlighted objective P, S, M or U, with its strengths "
                        "and areas for improvement"),
        Binding("i", "improve", "Add item", id="after-action-improve",
                tooltip="Add an improvement-plan item: action, owner, due date, and the "
                        "objective, risk or control it belongs to"),
        Binding("l", "link", "Link item", id="after-action-link",
                tooltip="Link the highlighted improvement item to a risk (its treatment "
                        "action) or a control"),
        Binding("x", "toggle", "Done/open", id="after-action-toggle",
                tooltip="Mark the highlighted improvement item done, or open again"),
    ]

    def __init__(self, exercise_id: int) -> None:
        super().__init__()
        self.exercise_id = exercise_id
        self.view: ExerciseView | None = None
        self._narrow: bool | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≡")
        yield Static(ex.BANNER, id="aa-banner", markup=False)
        with VerticalScroll(id="aa-body"):
            with Horizontal(id="aa-top"):
                head = Static(id="aa-head")
                head.border_title = "Exercise"
                yield head
                metrics = Static(id="aa-metrics")
                metrics.border_title = "Metrics"
                yield metrics
            yield Static(id="aa-open-note")
            yield PlainTable(id="aa-objectives", cursor_type="row")
            yield Static(id="aa-objective-detail")
            yield PlainTable(id="aa-improvements", cursor_type="row")
            with Horizontal(id="aa-timing"):
                yield PlainTable(id="aa-injects", cursor_type="row")
                yield PlainTable(id="aa-clocks", cursor_type="row")
        yield Footer()

    @property
    def store(self) -> Store:
        return self.app.store  # type: ignore[attr-defined,no-any-return]

    @property
    def narrow(self) -> bool:
        return self.app.size.width < self.NARROW_BELOW

    @property
    def closed(self) -> bool:
        return self.view is not None and self.view.status == "closed"

    def on_mount(self) -> None:
        self.sub_title = f"{TITLE} · EX-{self.exercise_id}"
        self._narrow = self.narrow
        self.reload()
        first = "#aa-objectives" if self.closed else "#aa-injects"
        self.set_focus(self.query_one(first), scroll_visible=False)
        body = self.query_one("#aa-body", VerticalScroll)
        self.call_after_refresh(body.scroll_home, animate=False)  # the report opens at its top
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        """A running exercise: its clock and metrics so far, read again each second."""
        if self.view is not None and self.view.status == "running" and self.is_current:
            self.reload()

    @on(DataTable.RowHighlighted)
    def _follow(self, event: DataTable.RowHighlighted) -> None:
        """Keep the cursor row of the focused table in view: the tables grow to their rows,
        so it is the report that scrolls, not the table."""
        table = event.data_table
        if not table.has_focus:
            return
        body = self.query_one("#aa-body", VerticalScroll)
        row = table._get_row_region(event.cursor_row)
        top = (table.region.y - body.region.y + body.scroll_y + table.gutter.top
               + table.header_height + row.y - round(table.scroll_y))
        body.scroll_to_region(Region(0, top, 1, row.height), animate=False)

    def on_screen_resume(self, _event: events.ScreenResume) -> None:
        if self.view is not None:
            self.reload()

    def on_resize(self, _event: events.Resize) -> None:
        if self._narrow is not None and self._narrow != self.narrow:
            self._narrow = self.narrow
            self.reload()

    # ------------------------------------------------------------------ data
    def reload(self) -> None:
        """Read the exercise again and redraw; a workspace failure becomes a notification."""
        from app.services.exercises import get_exercise

        try:
            view = get_exercise(self.store, self.exercise_id)
        except CrosswalkError as exc:
            self.notify(str(exc), title=TITLE, severity="error", markup=False)
            return
        self.view = view
        self.show(view)

    def show(self, v: ExerciseView) -> None:
        now_ms = v.now_ms(self.store.clock())
        metrics = v.metrics(self.store.clock())
        self.set_class(v.status != "closed", "-not-closed")
        self.query_one("#aa-head", Static).update(head_markup(v, now_ms))
        self.query_one("#aa-metrics", Static).update(metrics_markup(metrics))
        self.query_one("#aa-metrics", Static).border_title = (
            "Metrics" if v.status == "closed" else "Metrics so far (read-only)")
        self.query_one("#aa-open-note", Static).update(
            "" if v.status == "closed" else
            f"{v.label} is still {v.status}; close it on the runner to write its "
            "after-action report")
        self._objectives(v)
        self._improvements(v)
        self._injects(metrics)
        self._clocks(metrics)
        self.refresh_bindings()

    def _table(self, widget_id: str, title: str, columns: list[tuple[str, int | None]],
               width: int | None = None) -> tuple[DataTable[object], int]:
        """The table cleared, with its columns (a None width shares what is left of the
        table's `width`, the body's by default), and the cursor row to put back."""
        table = self.query_one(f"#{widget_id}", DataTable)
        keep = table.cursor_row if table.row_count else 0
        table.clear(columns=True)
        table.border_title = title
        fixed = sum(w for _, w in columns if w is not None)
        flexible = [label for label, w in columns if w is None]
        outer = width if width is not None else self.app.size.width - 4  # the body's padding
        room = max(10, outer - 2 - 2 * len(columns) - fixed)  # border, cell padding
        for label, w in columns:
            table.add_column(label, key=label,
                             width=w if w is not None else room // len(flexible))
        return table, keep

    @staticmethod
    def _restore(table: DataTable[object], row: int) -> None:
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1), animate=False)

    def _objectives(self, v: ExerciseView) -> None:
        wide = not self.narrow
        columns: list[tuple[str, int | None]] = [("Obj", 4), ("Rating", 16 if wide else 9),
                                                 ("Objective", None)]
        if wide:
            columns += [("Strengths", None), ("Areas for improvement", None)]
        table, keep = self._table("aa-objectives", "Objectives · r or Enter rates one",
                                  columns)
        for o in v.scenario.objectives:
            r = v.ratings.get(o.id)
            if r is None:
                rating = Text("not rated", style="dim")
            else:
                rating = Text.assemble((r.rating, RATING_STYLE[r.rating]),
                                       f" {ex.RATINGS[r.rating]}" if wide else "")
            cells: list[object] = [o.id, rating, Text(o.text)]
            if wide:
                cells += [Text(r.strengths if r else ""), Text(r.improvements if r else "")]
            table.add_row(*cells, key=o.id, height=None)
        self._restore(table, keep)
        self._objective_detail()

    @on(DataTable.RowHighlighted, "#aa-objectives")
    def _objective_detail(self) -> None:
        """Narrow: the highlighted objective's strengths and areas for improvement (the
        table has no room for them)."""
        detail = self.query_one("#aa-objective-detail", Static)
        objective = self._objective()
        if self.view is None or objective is None or not self.narrow:
            detail.update("")
            return
        r = self.view.ratings.get(objective.id)
        if r is None:
            detail.update(f"[dim]{escape(objective.id)} not rated yet (r rates it)[/]")
            return
        detail.update(f"[b]{escape(objective.id)}[/] [{RATING_STYLE[r.rating]}]{r.rating}[/]"
                      f" {ex.RATINGS[r.rating]}\n[b]Strengths[/] "
                      f"{escape(r.strengths) or '[dim]—[/]'}\n[b]Areas for improvement[/] "
                      f"{escape(r.improvements) or '[dim]—[/]'}")

    def _improvements(self, v: ExerciseView) -> None:
        wide = not self.narrow
        columns: list[tuple[str, int | None]] = [("Item", 5), ("Action", None),
                                                 ("Owner", 16 if wide else 10),
                                                 ("Due", 10), ("Status", 6)]
        columns += [("Risk", 6), ("Control", 7), ("Objective", 9)] if wide else \
            [("Links", 12)]
        table, keep = self._table(
            "aa-improvements", f"Improvement plan ({len(v.improvements)}) · i adds · "
            "l links · x done/open", columns)
        today = self.store.clock().date().isoformat()
        for item in v.improvements:
            due = Text(item.due_on, style="b red" if item.status == "open" and
                       item.due_on < today else "")
            status = Text(item.status, style="green" if item.status == "done" else "")
            links = [risk_label(item.risk_id) if item.risk_id else "",
                     item.control_id or "", item.objective or ""]
            cells: list[object] = [item.label, Text(item.action), Text(item.owner), due,
                                   status]
            cells += [x or Text("—", style="dim") for x in links] if wide else \
                [Text(" ".join(x for x in links if x) or "—")]
            table.add_row(*cells, key=str(item.id), height=None)
        if not v.improvements:
            table.add_row(Text("—", style="dim"), Text("no items yet: press i to add one",
                                                        style="dim"),
                          *[""] * (len(columns) - 2), key="none")
        self._restore(table, keep)

    def _injects(self, m: ex.Metrics) -> None:
        table, keep = self._table("aa-injects", "Inject latency", [
            ("Inject", 6), ("At", 9), ("Window", 7), ("Response", 8), ("Outcome", 12)])
        for r in m.injects:
            table.add_row(Text(r.inject.id), ex.format_offset(r.inject.at_ms),
                          ex.format_span(r.inject.window * 1000) if r.inject.window else "—",
                          ex.format_span(r.response_ms),
                          outcome_text(r.outcome), key=r.inject.id, height=None)
        self._restore(table, keep)

    def _clocks(self, m: ex.Metrics) -> None:
        width = self.app.size.width - 4 - (0 if self.narrow else INJECTS_WIDTH)
        table, keep = self._table("aa-clocks", "Regulatory clocks", [
            ("Basis", None), ("Due", 13), ("Notified", 13), ("Outcome", 14)], width)
        for c in m.clocks:
            table.add_row(Text(c.clock.basis), "—" if c.due_ms is None else
                          ex.format_offset(c.due_ms),
                          "—" if c.done_ms is None else ex.format_offset(c.done_ms),
                          outcome_text(c.outcome), key=c.clock.id, height=None)
        if not m.clocks:
            table.add_row(Text("no clocks in this playbook", style="dim"), "", "", "",
                          key="none")
        self._restore(table, keep)

    # ------------------------------------------------------------------ the rows
    def _objective(self) -> ex.Objective | None:
        if self.view is None:
            return None
        table = self.query_one("#aa-objectives", DataTable)
        objectives = self.view.scenario.objectives
        if not table.row_count or not objectives:
            return None
        return objectives[min(table.cursor_row, len(objectives) - 1)]

    def _item(self) -> Improvement | None:
        if self.view is None or not self.view.improvements:
            return None
        table = self.query_one("#aa-improvements", DataTable)
        items = self.view.improvements
        return items[min(table.cursor_row, len(items) - 1)]

    def _risks(self) -> list[RiskRow]:
        from app.services.risk_register import list_risks

        try:
            return list_risks(self.store)
        except CrosswalkError as exc:
            self.notify(str(exc), title=TITLE, severity="error", markup=False)
            return []

    # ------------------------------------------------------------------ actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("rate", "improve", "link", "toggle") and not self.closed:
            return False  # a report is written once the exercise is closed
        if action in ("link", "toggle") and self.view is not None \
                and not self.view.improvements:
            return None  # shown, disabled: no item yet
        return True

    def action_back(self) -> None:
        """Back to the exercises."""
        self.dismiss(None)

    @on(DataTable.RowSelected, "#aa-objectives")
    def _objective_chosen(self) -> None:
        self.action_rate()

    def action_rate(self, draft: RatingDraft | None = None) -> None:
        """Rate the highlighted objective."""
        v, objective = self.view, self._objective()
        if v is None or objective is None or not self.closed:
            return

        def chosen(form: RatingDraft | None) -> None:
            if form is None:
                return
            from app.services.after_action import rate_objective

            def job() -> tuple[str, int | None]:
                rate_objective(self.store, v.id, form.objective, form.rating,
                               strengths=form.strengths, improvements=form.improvements)
                return f"{form.objective} rated {form.rating}: {ex.RATINGS[form.rating]}", None

            start_register_write(self, f"Rating {form.objective}", job, "Not rated",
                                 lambda: self.action_rate(form), title=TITLE)

        self.app.push_screen(RatingDialog(v.label, objective, v.ratings.get(objective.id),
                                          draft), chosen)

    def action_improve(self, draft: dict[str, str] | None = None) -> None:
        """Add an item to the improvement plan."""
        v = self.view
        if v is None or not self.closed:
            return
        if draft is None and (objective := self._objective()) is not None \
                and self.focused is self.query_one("#aa-objectives"):
            draft = {"objective": objective.id}

        def chosen(form: ImprovementDraft | None) -> None:
            if form is None:
                return
            from app.services.after_action import add_improvement

            def job() -> tuple[str, int | None]:
                item = add_improvement(self.store, v.id, form.action, form.owner, form.due,
                                       objective=form.objective, risk=form.risk,
                                       control=form.control)
                linked = " · ".join(x for x in (form.risk, form.control) if x)
                return (f"{item.label} added: {item.action}"
                        + (f" (linked to {linked})" if linked else "")), item.id

            start_register_write(self, "Adding an improvement item", job, "Item not added",
                                 lambda: self.action_improve(form.values), title=TITLE)

        self.app.push_screen(ImprovementDialog(v.label, v.scenario.objectives, self._risks(),
                                               draft), chosen)

    def action_link(self, draft: dict[str, str] | None = None) -> None:
        """Link the highlighted improvement item to a risk or a control."""
        item = self._item()
        if item is None or not self.closed:
            return

        def chosen(form: LinkDraft | None) -> None:
            if form is None:
                return
            from app.services.after_action import link_improvement

            def job() -> tuple[str, int | None]:
                link_improvement(self.store, item.label, risk=form.risk, control=form.control)
                linked = " and ".join(x for x in (form.risk, form.control) if x)
                return f"{item.label} linked to {linked}", item.id

            start_register_write(self, f"Linking {item.label}", job, "Not linked",
                                 lambda: self.action_link(form.values), title=TITLE)

        self.app.push_screen(ImprovementLinkDialog(item, self._risks(), draft), chosen)

    def action_toggle(self) -> None:
        """Mark the highlighted improvement item done, or open again."""
        item = self._item()
        if item is None or not self.closed:
            return
        status = "open" if item.status == "done" else "done"
        from app.services.after_action import set_improvement_status

        def job() -> tuple[str, int | None]:
            set_improvement_status(self.store, item.label, status)
            return f"{item.label} is {status}", item.id

        start_register_write(self, f"Marking {item.label} {status}", job, "Not changed",
                             title=TITLE)

    # ------------------------------------------------------------------ writes
    def on_register_changed(self, message: RegisterChanged) -> None:
        message.stop()
        self.notify(message.summary, title=message.title, markup=False)
        self.reload()

    def on_register_failed(self, message: RegisterFailed) -> None:
        message.stop()
        self.notify(message.error, title=message.title, severity="error", markup=False)
        if message.reopen is not None:
            message.reopen()
