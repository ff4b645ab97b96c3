"""Dashboard: the workspace at a glance — counts, the twelve controls, the audit chain."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static

from app.domain.controls import SHORT_CATEGORIES
from app.services.controls import list_controls
from app.services.workspace import workspace_status
from app.tui.markup import escape
from app.tui.messages import CoverageLoaded, RisksSummaryLoaded
from app.tui.screens.base import SectionScreen
from app.tui.widgets.chain_status import ChainStatus
from app.tui.widgets.plain_table import PlainTable
from app.tui.widgets.status_cell import evidence_cell, status_cell


class EvidenceLoaded(Message):
    """The evidence summary (`app.services.evidence_status.summary`), read in a worker."""

    def __init__(self, summary: dict[str, Any]) -> None:
        super().__init__()
        self.summary = summary


class ExercisesLoaded(Message):
    """The latest exercise and the improvement plan (`after_action.exercise_summary`)."""

    def __init__(self, summary: dict[str, Any] | None) -> None:
        super().__init__()
        self.summary = summary


def risks_summary(store: Any, top: int = 5) -> RisksSummaryLoaded:
    """The register's highest risks and overdue reviews (called in the Dashboard's worker)."""
    from app.services.risk_checks import overdue_reviews
    from app.services.risks import list_risks, today

    rows = list_risks(store)  # highest latest level first
    return RisksSummaryLoaded(rows[:top], overdue_reviews(rows, today(store)), len(rows))


class DashboardScreen(SectionScreen):
    SECTION_ID = "dashboard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "verify", "Verify chain", id="dashboard-verify",
                tooltip="Recompute the audit hash chain and check every row against it"),
        Binding("escape", "cancel_verify", "Cancel verify", id="dashboard-cancel-verify",
                show=False),
        Binding("r", "reload", "Reload", id="dashboard-reload"),
        Binding("o", "open_control", "Open control", id="dashboard-open-control",
                tooltip="Open the highlighted control on the Controls screen"),
    ]

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="dashboard"):
            yield Static(id="ws-info")
            yield Static(id="dash-coverage")
            yield Static(id="dash-evidence")
            yield Static(id="dash-risks")
            yield Static(id="dash-exercises")
            yield PlainTable(id="dash-controls", cursor_type="row")
            yield ChainStatus(self.store, id="dash-chain")

    def on_mount(self) -> None:
        self.query_one("#dash-coverage").border_title = "Coverage of the obligations"
        self.query_one("#dash-evidence").border_title = "Evidence"
        self.query_one("#dash-risks").border_title = "Risks"
        self.query_one("#dash-exercises").border_title = "Exercises"
        self.query_one(ChainStatus).verify()

    def build_columns(self) -> None:
        """Narrow terminals drop the owner, and all but very wide ones the category: the
        table title spells out the GOV/SEC/OPS prefixes instead."""
        table = self.query_one("#dash-controls", DataTable)
        table.clear(columns=True)
        table.add_column("ID", key="id", width=5)
        table.add_column("Status", key="status")
        table.add_column("Evidence", key="evidence", width=8)
        # the name takes what is left beside the sidebar, ID, status, evidence (and owner)
        room = self.app.size.width - (55 if self.narrow else 76)
        table.add_column("Control", key="name", width=max(16, min(44, room)))
        if not self.narrow:
            table.add_column("Owner", key="owner", width=16)
        if self.wide:
            table.add_column("Category", key="category", width=10)
        table.border_title = ("Controls" if self.wide else
                              "Controls · GOV governance · SEC security · OPS operations")

    @property
    def wide(self) -> bool:
        return self.app.size.width >= 140

    def refresh_data(self) -> None:
        st = workspace_status(self.store)
        c = st.counts
        where = f"\n[dim]{escape(st.workspace)}[/]" if self.crosswalk.show_paths else ""
        done = st.control_status.get("implemented", 0)
        self.query_one("#ws-info", Static).update(
            f"[b]{escape(st.name)}[/]  [dim]schema v{st.schema_version}[/]{where}\n"
            f"{c['controls']} controls ({done} implemented) · {c['regulations']:,} regulations"
            f" · {c['clauses']:,} clauses · {c['mappings']:,} mappings · "
            f"{c['audit_events']:,} audit events"
        )
        table = self.query_one("#dash-controls", DataTable)
        cursor = table.cursor_row
        table.clear()
        for row in list_controls(self.store):
            cells = [row.id, status_cell(row.status), "…", row.name]
            if not self.narrow:
                cells.append(row.owner or "—")
            if self.wide:
                cells.append(SHORT_CATEGORIES.get(row.category, row.category))
            table.add_row(*cells, key=row.id)
        table.move_cursor(row=cursor)
        chain = self.query_one(ChainStatus)
        if chain.report is not None and chain.report.head != st.audit_head:
            chain.verify()  # something was written since the last check
        self.load_coverage()

    @work(thread=True, exclusive=True, exit_on_error=False, group="coverage",
          description="Computing coverage")
    def load_coverage(self) -> None:  # thread: post messages only
        from app.services.after_action import exercise_summary
        from app.services.analysis import coverage
        from app.services.evidence_status import summary
        from app.services.snapshot import load_snapshot

        snap = load_snapshot(self.store)
        drafts = sum(1 for m in snap.mappings if m.review_status == "draft")
        self.post_message(CoverageLoaded(coverage(snap), drafts))
        self.post_message(EvidenceLoaded(summary(self.store)))
        self.post_message(risks_summary(self.store))
        self.post_message(ExercisesLoaded(exercise_summary(self.store)))

    def on_evidence_loaded(self, message: EvidenceLoaded) -> None:
        """Evidence by status, and each control's evidence status in the table."""
        s = message.summary
        table = self.query_one("#dash-controls", DataTable)
        for cid, status in s["controls"].items():
            if cid in table.rows:
                table.update_cell(cid, "evidence", evidence_cell(status))
        by = s["by_status"]
        if s["evidence"]:
            lines = [
                f"[b]{s['evidence']:,}[/] pieces of evidence · [$success]{by['current']:,} "
                f"current[/] · [$warning]{by['expiring']:,} expiring[/] [dim](within "
                f"{s['expiring_days']} days)[/] · [$error]{by['expired']:,} expired[/] · "
                f"[b]{s['tests']:,}[/] control tests"]
        else:
            lines = ["[dim]no evidence yet: attach some on the Evidence screen (6)[/]"]
        if s["missing"]:
            lines.append(f"[$error]implemented without evidence[/]: {', '.join(s['missing'])}")
        if s["expired"]:
            lines.append(f"[$error]relying on expired evidence[/]: {', '.join(s['expired'])}")
        self.query_one("#dash-evidence", Static).update("\n".join(lines))

    def on_risks_summary_loaded(self, message: RisksSummaryLoaded) -> None:
        """The five highest risks (latest level) with owner and treatment; overdue reviews."""
        from app.tui.screens.risks import level_markup

        if not message.total:
            self.query_one("#dash-risks", Static).update(
                "[dim]no risks yet: add AI systems on 7 Systems and their risks on 8 Risks[/]")
            return
        high = sum(1 for r in message.top if r.latest is not None and r.latest.high)
        late = len(message.overdue)
        lines = [f"[b]{message.total:,}[/] risks · the highest {len(message.top)}"
                 + (f" ({high} high)" if high else "") + " · "
                 + (f"[$error]{late:,} review{'s' if late != 1 else ''} overdue[/]" if late
                    else "no review overdue")]
        title = 24 if self.narrow else 46
        width = max(len(r.latest.level) if r.latest else 8 for r in message.top)
        for r in message.top:
            text = " ".join(r.title.split())
            text = text if len(text) <= title else text[:title - 1] + "…"
            who = f"{escape(r.owner) or 'no owner'} · {r.treatment}"
            lines.append(f"{r.label:<7} {level_markup(r.latest, width)} {escape(text)} "
                         f"[dim]{who}[/]")
        if message.overdue:
            shown = ", ".join(f"{r.label} (due {r.review_on})" for r in message.overdue[:6])
            more = f" and {len(message.overdue) - 6:,} more" if len(message.overdue) > 6 else ""
            lines.append(f"[$error]review overdue[/]: {shown}{more}")
        self.query_one("#dash-risks", Static).update("\n".join(lines))

    def on_exercises_loaded(self, message: ExercisesLoaded) -> None:
        """The latest exercise's results and the improvement plan's open items."""
        from app.domain.exercise import format_span

        s = message.summary
        box = self.query_one("#dash-exercises", Static)
        if s is None:
            box.update("[dim]no exercise yet: run a tabletop from a playbook on 0 Exercises[/]")
            return
        missed = (f"[$error]{s['clocks_missed']} missed[/]" if s["clocks_missed"]
                  else "0 missed")
        overdue = (f" · [$error]{s['items_overdue']} overdue[/]" if s["items_overdue"]
                   else "")
        box.update(
            f"[b]{s['exercise']}[/] {escape(s['title'])} [dim]({s['status']}, "
            f"{escape(s['playbook'])})[/]\n"
            f"detection {format_span(s['detection_ms'])} · containment decision "
            f"{format_span(s['containment_ms'])} · clocks {s['clocks_met']} met, {missed} · "
            f"objectives rated {s['rated']}/{s['objectives']}\n"
            f"improvement plan: [b]{s['items_open']}[/] open{overdue} · {s['items_done']} done")

    def on_coverage_loaded(self, message: CoverageLoaded) -> None:
        """Coverage bars per regulation (full, partial, none), gaps, unreviewed mappings."""
        width = 16 if self.narrow else 28
        lines = []
        for r in message.report.regulations:
            n = r.obligations or 1
            full = round(width * r.full / n)
            partial = round(width * (r.full + r.partial) / n) - full
            bar = (f"[$success]{'█' * full}[/][$warning]{'█' * partial}[/]"
                   f"[dim]{'░' * (width - full - partial)}[/]")
            lines.append(f"{escape(r.code):<10} {bar} {(r.full + r.partial) / n:>4.0%} covered "
                         f"[dim]({r.full:,} full, {r.partial:,} partial)[/] · "
                         f"[b]{r.none:,}[/] gaps of {r.obligations:,}")
        if not lines:
            self.query_one("#dash-coverage", Static).update(
                "[dim]no regulations yet: import one on the Regulations screen[/]")
            return
        gaps = sum(r.none for r in message.report.regulations)
        lines.append(f"[b]{gaps:,}[/] gaps in all · [b]{message.drafts:,}[/] mappings not yet "
                     "reviewed  [dim](5 Mapping: g next gap, v review)[/]")
        self.query_one("#dash-coverage", Static).update("\n".join(lines))

    def action_verify(self) -> None:
        """Verify the audit chain now."""
        self.query_one(ChainStatus).verify()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_verify":
            return self.query_one(ChainStatus).running  # offered only while one runs
        return True

    def action_cancel_verify(self) -> None:
        self.query_one(ChainStatus).cancel()

    def action_reload(self) -> None:
        """Reload counts and controls from the workspace."""
        self.reload()

    def action_open_control(self) -> None:
        """Open the highlighted control on the Controls screen."""
        table = self.query_one("#dash-controls", DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.crosswalk.open_control(str(key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.crosswalk.open_control(str(event.row_key.value))
