"""The exercise runner: the exercise clock (real time or ×N, pause and resume), the next
inject and the feed of injects released so far, the regulatory clocks counting down from the
moment the team became aware, the steps completed, and the log with its quick keys.

The screen holds the exercise as read (`ExerciseView`) and ticks twice a second: each tick
works out the exercise time from the store's clock — no database read — and redraws the
clock, the countdowns and, when an inject falls due, the feed. Every write (a log line, a
pause, the close) runs in a thread worker and posts a message; the handler re-reads the
exercise. A log line is stamped with the exercise time at which its key was pressed, not the
time it was saved, so typing does not make the team look slower than it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from app.domain import exercise as ex
from app.errors import CrosswalkError
from app.services.exercises import ExerciseView
from app.store import Store
from app.tui.markup import escape
from app.tui.screens.exercise_dialogs import SPEEDS, LogDraft, LogLineDialog, describe
from app.tui.widgets.plain_table import PlainTable

OUTCOME_STYLE = {"met": "$text-success", "missed": "b $text-error", "running": "b",
                 "open at close": "$text-warning", "not applicable": "dim",
                 "not started": "dim"}


@dataclass
class ExerciseWritten(Message):
    """A write of the runner succeeded; `summary` is the toast."""

    summary: str


@dataclass
class ExerciseWriteFailed(Message):
    """A write was refused (nothing was written); `draft` reopens the log line."""

    message: str
    draft: LogDraft | None = None


def banner() -> Static:
    return Static(ex.BANNER, classes="exercise-banner", markup=False)


def clock_lines(view: ExerciseView, now_ms: int) -> list[str]:
    """The clocks panel: each clock of the playbook with its countdown or outcome."""
    metrics = view.metrics_at(now_ms)
    if not metrics.clocks:
        return ["[dim]This playbook runs no regulatory clock.[/]"]
    lines = []
    if view.aware_ms is None:
        lines.append("[b $text-warning]Not started:[/] press [b]a[/] when the team becomes "
                     "aware")
    else:
        lines.append(f"[dim]from becoming aware at {ex.format_offset(view.aware_ms)}[/]")
    for c in metrics.clocks:
        style = OUTCOME_STYLE.get(c.outcome, "")
        if c.outcome == "running" and c.due_ms is not None:
            left = c.due_ms - now_ms
            state = f"[b]{ex.format_span(left)}[/] left"
        elif c.outcome == "running":
            state = "[b]without undue delay[/]"
        elif c.outcome == "met" and c.done_ms is not None:
            state = f"[{style}]met[/] at {ex.format_offset(c.done_ms)}"
        else:
            state = f"[{style}]{c.outcome}[/]"
        lines.append(f"{escape(c.clock.basis)} [dim]{c.clock.period}[/]\n  {state}")
    return lines


FEED = 25  # injects shown in the feed, newest first (the log and `exercise show` have all)


def first_answers(view: ExerciseView) -> dict[str, ex.Entry]:
    """Each inject's first response, by inject id."""
    out: dict[str, ex.Entry] = {}
    for e in sorted(view.entries, key=lambda e: (e.at_ms, e.seq)):
        if e.inject is not None:
            out.setdefault(e.inject, e)
    return out


def inject_markup(inj: ex.Inject, view: ExerciseView, now_ms: int,
                  answered: ex.Entry | None) -> str:
    """One released inject as the feed shows it (every text escaped)."""
    if answered is not None:
        state = f"[$text-success]answered at {ex.format_offset(answered.at_ms)}[/]"
    elif inj.window is not None:
        left = inj.at_ms + inj.window * 1000 - now_ms
        state = (f"[b]{ex.format_span(left)}[/] to respond" if left >= 0
                 else f"[b $text-error]window passed {ex.format_span(-left)} ago[/]")
    else:
        state = "[dim]no response window[/]"
    module = view.scenario.module(inj.module)
    lines = [f"[b]{escape(inj.id)}[/] {ex.format_offset(inj.at_ms)} · to "
             f"{escape(inj.audience)} · [dim]{escape(module.title)}[/] · {state}",
             escape(inj.content)]
    if inj.expected:
        lines.append("[dim]expected:[/] " + "; ".join(escape(e) for e in inj.expected))
    if inj.questions:
        lines += [f"[dim]?[/] {escape(q)}" for q in inj.questions]
    return "\n".join(lines)


class ExerciseRunScreen(Screen[None]):
    """Run one exercise (pushed from the Exercises screen)."""

    HELP_TITLE = "Exercise runner"
    AUTO_FOCUS = "#ex-log"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_clock", "Start/pause", id="exercise-toggle"),
        Binding("a", "aware", "Became aware", id="exercise-aware"),
        Binding("d", "entry('decision')", "Decision", id="exercise-decision"),
        Binding("e", "entry('escalation')", "Escalation", id="exercise-escalation"),
        Binding("n", "entry('notification')", "Notification", id="exercise-notification"),
        Binding("t", "entry('action')", "Action", id="exercise-action"),
        Binding("o", "entry('note')", "Note", id="exercise-note", show=False),
        Binding("plus,equals_sign", "speed(1)", "Faster", id="exercise-faster",
                key_display="+"),
        Binding("minus", "speed(-1)", "Slower", id="exercise-slower", key_display="-"),
        Binding("x", "close_exercise", "Close", id="exercise-close"),
        Binding("r", "report", "After-action", id="exercise-report"),
        Binding("escape", "back", "Back", id="exercise-back"),
    ]

    def __init__(self, exercise_id: int, *, tick: float = 0.5) -> None:
        super().__init__()
        self.exercise_id = exercise_id
        self.view: ExerciseView | None = None
        self._answers: dict[str, ex.Entry] = {}
        self._tick = tick
        self._released = -1

    @property
    def store(self) -> Store:
        return self.app.store  # type: ignore[attr-defined,no-any-return]

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≡")
        yield banner()
        yield Static(id="ex-status")
        with Horizontal(id="ex-main"):
            with Vertical(id="ex-left"):
                yield Static(id="ex-next")
                with VerticalScroll(id="ex-feed"):
                    yield Static(id="ex-feed-text")
            with VerticalScroll(id="ex-right"):
                yield Static(id="ex-clocks")
                yield Static(id="ex-steps")
        table: DataTable[str] = PlainTable(id="ex-log", cursor_type="row")
        table.border_title = "Log"
        yield table
        yield Static("[b]a[/] became aware  [b]d[/] decision  [b]e[/] escalation  "
                     "[b]n[/] notification  [b]t[/] action  [b]o[/] note  ·  [b]space[/] "
                     "start/pause  [b]+/-[/] speed", id="ex-keys")
        yield Footer()

    def on_mount(self) -> None:
        self.build_columns()
        self.load()
        if self._tick:
            self.set_interval(self._tick, self.tick)

    def build_columns(self) -> None:
        """The log's columns, the entry taking what the terminal has left (no sideways
        scrolling)."""
        table = self.query_one("#ex-log", DataTable)
        table.clear(columns=True)
        who = 18 if self.app.size.width >= 100 else 12
        table.add_column("At", key="at", width=10)
        table.add_column("Kind", key="kind", width=12)
        table.add_column("Who", key="who", width=who)
        table.add_column("Entry", key="text", width=max(20, self.app.size.width - who - 34))

    def on_resize(self) -> None:
        if self.view is not None:
            self.build_columns()
            self.load()

    # ------------------------------------------------------------------ reading
    def load(self) -> None:
        from app.services.exercises import get_exercise

        try:
            self.view = get_exercise(self.store, self.exercise_id)
        except CrosswalkError as exc:
            self.notify(str(exc), title="Cannot read the exercise", severity="error",
                        markup=False)
            return
        self._answers = first_answers(self.view)
        self.sub_title = f"{self.view.label} · {self.view.title}"
        table = self.query_one("#ex-log", DataTable)
        table.clear()
        for e in reversed(self.view.entries):
            flags = " ".join(x for x in (
                f"re {e.inject}" if e.inject else "", f"step {e.step}" if e.step else "",
                f"clock {e.clock}" if e.clock else "",
                "CONTAINMENT" if e.containment else "") if x)
            table.add_row(ex.format_offset(e.at_ms), e.kind, e.actor,
                          e.text + (f"  ({flags})" if flags else ""), key=str(e.seq))
        self._released = -1
        self.tick()

    def now_ms(self) -> int:
        assert self.view is not None
        return self.view.now_ms(self.store.clock())

    def tick(self) -> None:
        """Redraw the clock, the countdowns and (when an inject falls due) the feed."""
        view = self.view
        if view is None:
            return
        now_ms = self.now_ms()
        released, upcoming = ex.due_injects(view.scenario, now_ms)
        state = {"planned": "[b]READY[/] · press space to start",
                 "running": f"[b $text-success]● RUNNING[/] ×{view.speed}",
                 "paused": f"[b $text-warning]❚❚ PAUSED[/] ×{view.speed}",
                 "closed": "[b]CLOSED[/] · r for the after-action report"}[view.status]
        scenario_at = ""
        if view.starts_at:
            from datetime import timedelta

            moment = ex.clock_start(view.starts_at) + timedelta(milliseconds=now_ms)
            scenario_at = f" · scenario {moment:%a %d %b %H:%M}"
        self.query_one("#ex-status", Static).update(
            f"{state} · [b]{ex.format_offset(now_ms)}[/]{scenario_at} · [b]{view.label}[/] "
            f"{escape(view.title)}")
        if view.status == "closed":
            unreleased = len(view.scenario.injects) - len(released)
            nxt = (f"[b]Closed[/] at {ex.format_offset(now_ms)}" +
                   (f"; {unreleased} inject{'s' if unreleased > 1 else ''} never released"
                    if unreleased else ""))
        elif upcoming is not None:
            nxt = (f"[b]Next inject[/] {escape(upcoming.id)} at "
                   f"{ex.format_offset(upcoming.at_ms)} · in "
                   f"[b]{ex.format_span(upcoming.at_ms - now_ms)}[/] · to "
                   f"{escape(upcoming.audience)}")
        else:
            nxt = "[dim]No more injects.[/]"
        self.query_one("#ex-next", Static).update(
            f"{nxt}   [dim]{len(released)} of {len(view.scenario.injects)} released[/]")
        if len(released) != self._released:
            if self._released >= 0 and len(released) > self._released:
                newest = released[-1]
                self.notify(f"{newest.id} to {newest.audience}: {newest.content[:80]}",
                            title=f"Inject {newest.id} at {ex.format_offset(newest.at_ms)}",
                            markup=False)
                self.app.bell()
            self._released = len(released)
        feed = [inject_markup(i, view, now_ms, self._answers.get(i.id))
                for i in reversed(released[-FEED:])]
        if len(released) > FEED:
            feed.append(f"[dim]… {len(released) - FEED} earlier injects: see the log, or "
                        f"crosswalk exercise show {view.label}[/]")
        self.query_one("#ex-feed-text", Static).update(
            "\n\n".join(feed) if feed else "[dim]No inject yet. The first comes at "
            f"{ex.format_offset(view.scenario.injects[0].at_ms)}.[/]")
        self.query_one("#ex-clocks", Static).update(
            "[b]Regulatory clocks[/]\n" + "\n".join(clock_lines(view, now_ms)))
        done = {e.step for e in view.entries if e.step}
        steps = [f"{'[$text-success]✔[/]' if n in done else '[dim]·[/]'} {n}. {escape(s.name)}"
                 for n, s in enumerate(view.playbook.steps, start=1)]
        self.query_one("#ex-steps", Static).update(
            f"\n[b]Playbook steps[/] {len(done)} of {len(view.playbook.steps)}\n"
            + "\n".join(steps))

    # ------------------------------------------------------------------ writing
    def write(self, what: str, job: Callable[[], str], draft: LogDraft | None = None) -> None:
        """Run a service call in a thread worker; its result comes back as a message."""

        def run() -> None:
            try:
                summary = job()
            except CrosswalkError as exc:
                self.post_message(ExerciseWriteFailed(str(exc), draft))
                return
            self.post_message(ExerciseWritten(summary))

        self.run_worker(run, thread=True, group="exercise-write", exit_on_error=False,
                        description=what)

    def on_exercise_written(self, message: ExerciseWritten) -> None:
        self.load()
        self.notify(message.summary, markup=False)

    def on_exercise_write_failed(self, message: ExerciseWriteFailed) -> None:
        self.notify(message.message, title="Not written", severity="error", markup=False)
        if message.draft is not None:
            self.load()
            self.open_line(message.draft.kind, message.draft.at_ms, message.draft)

    def _live(self) -> bool:
        """Whether the log takes entries now (else say why)."""
        if self.view is None:
            return False
        if self.view.status == "closed":
            self.notify(f"{self.view.label} is closed; its log is final", severity="warning",
                        markup=False)
            return False
        if self.view.status == "planned":
            self.notify("Start the exercise clock first (space)", severity="warning", markup=False)
            return False
        return True

    def action_aware(self) -> None:
        """Mark the moment the team became aware: the regulatory clocks start."""
        from app.services.exercises import log
        from app.tui.screens.dialogs import ConfirmDialog

        if not self._live():
            return
        assert self.view is not None
        if self.view.aware_ms is not None:
            self.notify(f"The team became aware at {ex.format_offset(self.view.aware_ms)}; "
                        "the clocks run from that moment", severity="warning", markup=False)
            return
        at = self.now_ms()  # the moment the key was pressed, whatever the answer takes

        def answered(yes: bool | None) -> None:
            if yes:
                self.write("Became aware", lambda: (
                    log(self.store, self.exercise_id, "aware", "", at_ms=at),
                    f"Became aware at {ex.format_offset(at)}: the regulatory clocks run")[1])

        self.app.push_screen(ConfirmDialog(
            f"The team became aware at {ex.format_offset(at)}? Every regulatory clock of "
            "the playbook starts from this moment, and the log cannot take it back.",
            "Became aware"), answered)

    def action_entry(self, kind: str) -> None:
        """Log a decision, escalation, notification, action or note."""
        if self._live():
            self.open_line(kind, self.now_ms())

    def open_line(self, kind: str, at_ms: int, draft: LogDraft | None = None) -> None:
        from app.services.exercises import log

        assert self.view is not None

        def done(result: LogDraft | None) -> None:
            if result is None:
                return
            self.write(f"Log a {kind}", lambda: (log(
                self.store, self.exercise_id, result.kind, result.text, actor=result.actor,
                inject=result.inject, step=result.step, clock=result.clock,
                containment=result.containment, at_ms=result.at_ms), describe(result))[1],
                draft=result)

        self.app.push_screen(LogLineDialog(self.view, kind, at_ms, self.store.actor, draft),
                             done)

    def action_toggle_clock(self) -> None:
        """Start the exercise, or pause and resume its clock."""
        from app.services.exercises import pause, start

        if self.view is None or self.view.status == "closed":
            return
        if self.view.status == "running":
            self.write("Pause", lambda: (pause(self.store, self.exercise_id), "Paused")[1])
        else:
            word = "Started" if self.view.status == "planned" else "Resumed"
            self.write("Run", lambda: (start(self.store, self.exercise_id), word)[1])

    def action_speed(self, step: int) -> None:
        """Run the exercise clock faster or slower (×1 is real time)."""
        from app.services.exercises import set_speed

        if self.view is None or self.view.status == "closed":
            return
        now = SPEEDS.index(self.view.speed) if self.view.speed in SPEEDS else 0
        new = SPEEDS[max(0, min(len(SPEEDS) - 1, now + step))]
        if new != self.view.speed:
            self.write("Speed", lambda: (set_speed(self.store, self.exercise_id, new),
                                         f"Clock speed ×{new}")[1])

    def action_close_exercise(self) -> None:
        """End the exercise: the clock stops and the log becomes final."""
        from app.services.exercises import close
        from app.tui.screens.dialogs import ConfirmDialog

        if self.view is None or self.view.status in ("closed", "planned"):
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.write("Close", lambda: (close(self.store, self.exercise_id),
                                             "Exercise closed; its log is final")[1])

        self.app.push_screen(ConfirmDialog(
            f"Close {self.view.label} at {ex.format_offset(self.now_ms())}? The clock stops "
            "and the log becomes final; then write the after-action report.", "Close it"),
            answered)

    def action_report(self) -> None:
        """The after-action report of this exercise."""
        from app.tui.screens.after_action import AfterActionScreen

        self.app.push_screen(AfterActionScreen(self.exercise_id))

    def action_back(self) -> None:
        """Back to the list of exercises (the clock keeps running)."""
        self.dismiss(None)
