"""Exercises: the tabletop exercises of the workspace, newest first, and for the highlighted one
its scenario (objectives, modules, injects) and where it stands. `c` creates one from a
playbook and a scenario, enter runs it (`ExerciseRunScreen`), `r` opens its after-action
report (`AfterActionScreen`)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from app.domain import exercise as ex
from app.errors import CrosswalkError
from app.services.exercises import ExerciseView
from app.tui.markup import escape
from app.tui.screens.base import SectionScreen
from app.tui.screens.exercise_dialogs import NewExercise, NewExerciseDialog
from app.tui.screens.exercise_run import ExerciseWriteFailed, ExerciseWritten, banner
from app.tui.widgets.plain_table import PlainTable

STATUS_MARKUP = {"planned": "dim", "running": "b $text-success", "paused": "b $text-warning",
                 "closed": ""}


def exercise_markup(view: ExerciseView, now_ms: int) -> str:
    """The highlighted exercise: where it stands, its scenario, its metrics so far."""
    m = view.metrics_at(now_ms)
    lines = [f"[b]{view.label}[/] {escape(view.title)}",
             f"playbook [b]{escape(view.playbook.id)}[/] · {view.status} at "
             f"{ex.format_offset(now_ms)} · ×{view.speed} · scenario starts "
             f"{view.starts_at[:16].replace('T', ' ')}",
             f"[dim]{len(view.entries)} log entries · detection {ex.format_span(m.detection_ms)}"
             f" · first decision {ex.format_span(m.first_decision_ms)} · containment "
             f"{ex.format_span(m.containment_ms)} · steps {len(m.steps_done)} of "
             f"{m.steps_total}[/]"]
    if view.scenario.description:
        lines += ["", escape(view.scenario.description)]
    lines += ["", "[b]Objectives[/]"]
    for o in view.scenario.objectives:
        rating = view.ratings.get(o.id)
        grade = f"[b]{rating.rating}[/]" if rating else "[dim]·[/]"
        lines.append(f" {grade} {escape(o.id)}  {escape(o.text)}")
    lines += ["", f"[b]Injects[/] ({len(view.scenario.injects)} in "
                  f"{len(view.scenario.modules)} modules)"]
    for mod in view.scenario.modules:
        lines.append(f" [b]{escape(mod.title)}[/]")
        for inj in (i for i in view.scenario.injects if i.module == mod.id):
            window = f" · window {ex.format_span(inj.window * 1000)}" if inj.window else ""
            lines.append(f"  {ex.format_offset(inj.at_ms):>11} {escape(inj.id)} → "
                         f"{escape(inj.audience)}[dim]{window}[/]")
    return "\n".join(lines)


class ExercisesScreen(SectionScreen):
    SECTION_ID = "exercises"
    AUTO_FOCUS = "#exl-table"
    _draft: NewExercise | None = None
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "create", "New exercise", id="exercises-create"),
        Binding("enter", "run", "Run", id="exercises-run"),
        Binding("r", "report", "After-action", id="exercises-report"),
        Binding("f5", "reload", "Reload", id="exercises-reload"),
    ]

    def compose_body(self) -> ComposeResult:
        yield banner()
        table: DataTable[str] = PlainTable(id="exl-table", cursor_type="row")
        table.border_title = "Tabletop exercises"
        yield table
        with VerticalScroll(id="exl-detail"):
            yield Static(id="exl-text")

    def build_columns(self) -> None:
        table = self.query_one("#exl-table", DataTable)
        table.clear(columns=True)
        table.add_column("Id", key="id", width=6)
        table.add_column("Status", key="status", width=8)
        table.add_column("Clock", key="clock", width=10)
        table.add_column("Log", key="log", width=4)
        if not self.narrow:
            table.add_column("Playbook", key="playbook", width=28)
        widths = [6, 8, 10, 4] + ([] if self.narrow else [28])
        chrome = 26  # the sidebar, the borders and the scroll bar
        table.add_column("Title", key="title", width=max(
            16, self.app.size.width - chrome - sum(widths) - 2 * (len(widths) + 1)))

    def refresh_data(self) -> None:
        from app.services.exercises import list_exercises

        table = self.query_one("#exl-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        self._rows = list_exercises(self.store)
        now = self.store.clock()
        for r in self._rows:
            cells = [f"EX-{r.id}", r.status, ex.format_offset(r.now_ms(now)), str(r.entries)]
            if not self.narrow:
                cells.append(r.playbook)
            table.add_row(*cells, r.title, key=str(r.id))
        if self._rows:
            table.move_cursor(row=min(cursor, len(self._rows) - 1))
        self.show_detail()

    def selected(self) -> int | None:
        table = self.query_one("#exl-table", DataTable)
        if not table.row_count:
            return None
        return int(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))

    def show_detail(self) -> None:
        from app.services.exercises import get_exercise

        text = self.query_one("#exl-text", Static)
        eid = self.selected()
        if eid is None:
            text.update("[dim]No exercise yet. Press [b]c[/] to create one from a playbook "
                        "and a scenario (each shipped playbook comes with one).[/]")
            return
        try:
            view = get_exercise(self.store, eid)
        except CrosswalkError as exc:
            text.update(escape(str(exc)))
            return
        text.update(exercise_markup(view, view.now_ms(self.store.clock())))

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_run()

    # ------------------------------------------------------------------ actions
    def action_create(self, draft: NewExercise | None = None) -> None:
        """Create an exercise from a playbook and a scenario file."""
        from app.services.playbooks import list_playbooks

        def done(result: NewExercise | None) -> None:
            if result is not None:
                self.create(result)

        self.app.push_screen(NewExerciseDialog(list_playbooks(self.store), draft), done)

    def create(self, draft: NewExercise) -> None:
        from app.services.exercises import create_exercise

        self._draft = draft  # given back to the form if the service refuses it

        def run() -> None:  # thread
            try:
                scenario = Path(draft.scenario).expanduser() if draft.scenario else None
                view = create_exercise(self.store, draft.playbook, scenario,
                                       title=draft.title or None, speed=draft.speed)
            except CrosswalkError as exc:
                self.post_message(ExerciseWriteFailed(str(exc)))
                return
            self.post_message(ExerciseWritten(f"Created {view.label}: {view.title} "
                                              f"({len(view.scenario.injects)} injects)"))

        self.run_worker(run, thread=True, group="exercise-create", exit_on_error=False,
                        description="Create an exercise")

    def on_exercise_written(self, message: ExerciseWritten) -> None:
        self.reload()
        table = self.query_one("#exl-table", DataTable)
        table.move_cursor(row=0)
        self.notify(message.summary, markup=False)

    def on_exercise_write_failed(self, message: ExerciseWriteFailed) -> None:
        self.notify(message.message, title="Not created", severity="error", markup=False)
        self.action_create(self._draft)

    def action_run(self) -> None:
        """Run the highlighted exercise."""
        from app.tui.screens.exercise_run import ExerciseRunScreen

        eid = self.selected()
        if eid is not None:
            self.app.push_screen(ExerciseRunScreen(eid))

    def action_report(self) -> None:
        """The after-action report of the highlighted exercise."""
        from app.tui.screens.after_action import AfterActionScreen

        eid = self.selected()
        if eid is not None:
            self.app.push_screen(AfterActionScreen(eid))

    def action_reload(self) -> None:
        """Read the exercises again."""
        self.reload()
