"""Systems: the AI system inventory (id, name, EU AI Act tier, operator role, lifecycle,
owner, number of risks) and the highlighted system's purpose, tier with its justification,
Annex III area, model versions, risks and history (its audit trail: when, who, what changed
from → to). Add (`a`), edit (`e`), add or change a model version (`m`). Reads and writes run
in thread workers."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from app.domain import risk as rk
from app.errors import CrosswalkError
from app.services.audit import head_seq
from app.services.systems import SystemDetail
from app.tui.markup import escape
from app.tui.messages import (
    RegisterChanged,
    RegisterFailed,
    SystemDetailLoaded,
    SystemsLoaded,
)
from app.tui.screens.base import SectionScreen
from app.tui.screens.risk_dialogs import (
    ModelForm,
    ModelVersionDialog,
    SystemDialog,
    SystemForm,
    start_register_write,
)
from app.tui.screens.risks import level_markup
from app.tui.widgets.plain_table import PlainTable

TIER_MARKUP = {"prohibited": "b $text-error", "high": "b $text-warning", "limited": "",
               "minimal": "dim", "general-purpose": "", "out-of-scope": "dim"}
STATUS_MARKUP = {"approved": "$text-success", "pending": "$text-warning",
                 "restricted": "b $text-warning", "blocked": "b $text-error",
                 "retired": "dim"}


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return " ".join(str(value).split())


def change_lines(event: dict[str, Any]) -> list[str]:
    """One audit event as lines: what changed, from → to (escaped)."""
    change = event.get("change")
    action = str(event.get("action", ""))
    if not isinstance(change, dict):
        return [escape(str(change))]
    if action.endswith(".create"):
        keys = [k for k in ("name", "tier", "operator_role", "version", "approval_status")
                if change.get(k) not in (None, "")]
        return [", ".join(f"{k.replace('_', ' ')} {escape(_shown(change[k]))}"
                          for k in keys) or "created"]
    out = []
    for key, value in change.items():
        if isinstance(value, dict) and "from" in value:
            out.append(f"{key.replace('_', ' ')}: [dim]{escape(_shown(value['from'])[:60])}[/]"
                       f" → {escape(_shown(value['to'])[:60])}")
        else:
            out.append(f"{key.replace('_', ' ')}: {escape(_shown(value)[:60])}")
    return out


def system_markup(d: SystemDetail) -> str:
    s = d.system
    tier = f"[{TIER_MARKUP.get(s.tier, '')}]{s.tier}[/]" if TIER_MARKUP.get(s.tier) else s.tier
    lines = [f"[b]{d.label}[/] [b]{escape(s.name)}[/]  {tier} · {s.operator_role} · "
             f"{s.lifecycle} · owner {escape(s.owner) or '—'}"]
    lines.append(escape(s.purpose) if s.purpose else "[dim]no purpose written (e edits)[/]")
    lines += ["", f"[b]Tier[/] {tier} — {escape(s.tier_justification)}"]
    if s.annex_iii_area:
        lines.append(f"[b]Annex III[/] {s.annex_iii_area} "
                     f"{escape(rk.ANNEX_III.get(s.annex_iii_area, '?'))}")
    elif s.tier == "high":
        lines.append("[b]Annex III[/] [dim]no area given[/]")
    lines += ["", f"[b]Model versions[/] ({len(d.models)})" if d.models else
              "[b]Model versions[/] [dim]none — press m to add one[/]"]
    for m in reversed(d.models):
        status = f"[{STATUS_MARKUP.get(m.approval_status, '')}]{m.approval_status}[/]"
        lines.append(f" [b]{escape(m.version)}[/] {status} [dim]since "
                     f"{m.updated_at[:10]}[/]")
        if m.limitations:
            lines.append(f"    [i]{escape(' '.join(m.limitations.split()))}[/]")
    lines += ["", f"[b]Risks[/] ({len(d.risks)})" if d.risks else
              "[b]Risks[/] [dim]none — add them on 8 Risks[/]"]
    width = max((len(r.latest.level) if r.latest else 8 for r in d.risks[:20]), default=0)
    for r in d.risks[:20]:
        lines.append(f" [b]{r.label:<7}[/] {level_markup(r.latest, width)} {escape(r.title)} "
                     f"[dim]· {r.treatment}[/]")
    if len(d.risks) > 20:
        lines.append(f" [dim]… and {len(d.risks) - 20:,} more on 8 Risks[/]")
    lines += ["", f"[b]History[/] ({len(d.history)} changes)"]
    for event in reversed(d.history):
        what = str(event["action"]).replace("ai_system.", "system ").replace(
            "model_version.", f"model {event.get('model_version', '')} ")
        lines.append(f" {str(event['at'])[:16].replace('T', ' ')} "
                     f"{escape(str(event['actor']))} [b]{escape(what)}[/]")
        lines += [f"    {line}" for line in change_lines(event)]
    return "\n".join(lines)


class SystemsScreen(SectionScreen):
    SECTION_ID = "systems"
    AUTO_FOCUS = "#sys-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add system", id="systems-add",
                tooltip="Add an AI system: name, tier with its justification, role, owner"),
        Binding("e", "edit", "Edit", id="systems-edit",
                tooltip="Edit the highlighted system (its history keeps every change)"),
        Binding("m", "model", "Model version", id="systems-model",
                tooltip="Add a model version to the highlighted system, or change one's "
                        "approval status or limitations"),
        Binding("r", "reload", "Reload", id="systems-reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._head: int | None = None
        self._keep: int | None = None
        self.detail: SystemDetail | None = None

    def compose_body(self) -> ComposeResult:
        table: DataTable[str] = PlainTable(id="sys-table", cursor_type="row")
        table.border_title = "AI systems"
        yield table
        with VerticalScroll(id="sys-detail"):
            yield Static("[dim]Choose a system to see its models, risks and history.[/]",
                         id="sys-info")

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#sys-table", DataTable)

    def build_columns(self) -> None:
        table = self.table
        table.clear(columns=True)
        table.add_column("ID", key="id", width=6)
        table.add_column("Name", key="name", width=22 if not self.narrow else 18)
        table.add_column("Tier", key="tier", width=15 if not self.narrow else 8)
        if not self.narrow:
            table.add_column("Role", key="role", width=12)
        table.add_column("Lifecycle", key="lifecycle", width=11)
        if not self.narrow:
            table.add_column("Owner", key="owner", width=16)
        table.add_column("Risks", key="risks", width=5)

    def refresh_data(self) -> None:
        if self._head == head_seq(self.store) and self.table.row_count:
            return
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="system-list",
          description="Reading the AI systems")
    def load(self) -> None:  # thread: post messages only
        from collections import Counter

        from app.services.risks import list_risks
        from app.services.systems import list_systems

        head = head_seq(self.store)
        systems = list_systems(self.store)
        counts = Counter(r.system_id for r in list_risks(self.store))
        if not get_current_worker().is_cancelled:
            self.post_message(SystemsLoaded(systems, dict(counts), head))

    def on_systems_loaded(self, message: SystemsLoaded) -> None:
        self._head = message.head
        table = self.table
        keep = self._keep
        if keep is None and table.row_count:
            keep = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
                       or 0)
        self._keep = None
        table.clear()
        for s in message.systems:
            cells = [rk.system_label(s.id or 0), s.name, s.tier]
            if not self.narrow:
                cells.append(s.operator_role)
            cells.append(s.lifecycle)
            if not self.narrow:
                cells.append(s.owner or "—")
            cells.append(f"{message.risks.get(s.id or 0, 0):>5}")
            table.add_row(*cells, key=str(s.id))
        table.border_title = f"AI systems {len(message.systems):,}"
        if not message.systems:
            self.detail = None
            self.query_one("#sys-info", Static).update(
                "[dim]No AI systems yet: press a to add the first to the inventory.[/]")
            return
        row = next((i for i, s in enumerate(message.systems) if s.id == keep), 0)
        table.move_cursor(row=row)
        self.detail = None
        self.load_detail(message.systems[row].id or 0)

    @on(DataTable.RowHighlighted, "#sys-table")
    def _moved(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key is not None and (self.detail is None or str(self.detail.system.id) != key):
            self.load_detail(int(key))

    @work(thread=True, exclusive=True, exit_on_error=False, group="system-detail",
          description="Reading the AI system")
    def load_detail(self, system_id: int) -> None:  # thread: post messages only
        from app.services.systems import get_system

        try:
            detail = get_system(self.store, system_id)
        except CrosswalkError:
            return
        if not get_current_worker().is_cancelled:
            self.post_message(SystemDetailLoaded(detail))

    def on_system_detail_loaded(self, message: SystemDetailLoaded) -> None:
        d = message.detail
        table = self.table
        if not table.row_count or table.coordinate_to_cell_key(
                table.cursor_coordinate).row_key.value != str(d.system.id):
            return  # the cursor moved on meanwhile
        self.detail = d
        self.query_one("#sys-info", Static).update(system_markup(d))

    # ------------------------------------------------------------------ writes
    def on_register_changed(self, message: RegisterChanged) -> None:
        self.notify(message.summary, title=message.title, markup=False)
        self._keep = message.target
        self.detail = None
        self.load()

    def on_register_failed(self, message: RegisterFailed) -> None:
        self.notify(message.error, title=message.title, severity="error", markup=False)
        if message.reopen is not None:
            message.reopen()

    def _need_detail(self) -> SystemDetail | None:
        table = self.table
        if not table.row_count:
            self.notify("no system highlighted", severity="warning", markup=False)
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if self.detail is None or str(self.detail.system.id) != key:
            self.notify("still reading this system; try again", severity="warning", markup=False)
            return None
        return self.detail

    def action_add(self, draft: dict[str, str] | None = None) -> None:
        """Add an AI system to the inventory."""

        def chosen(form: SystemForm | None) -> None:
            if form is None:
                return
            from app.services.systems import add_system

            def job() -> tuple[str, int | None]:
                row = add_system(self.store, **form.fields)
                return f"{rk.system_label(row.id or 0)} added: {row.name}", row.id

            start_register_write(self, "Adding a system", job, "System not added",
                                 lambda: self.action_add(form.values), title="Systems")

        self.app.push_screen(SystemDialog(draft=draft), chosen)

    def action_edit(self, draft: dict[str, str] | None = None) -> None:
        """Edit the highlighted system."""
        d = self._need_detail()
        if d is None:
            return

        def chosen(form: SystemForm | None) -> None:
            if form is None:
                return
            if not form.fields:
                self.notify(f"{d.label}: nothing changed", markup=False)
                return
            from app.services.systems import update_system

            def job() -> tuple[str, int | None]:
                _, change = update_system(self.store, d.label, **form.fields)
                return f"{d.label}: saved {', '.join(change) or 'nothing new'}", d.system.id

            start_register_write(self, f"Saving {d.label}", job, "Not saved",
                                 lambda: self.action_edit(form.values), title="Systems")

        self.app.push_screen(SystemDialog(d.system, draft), chosen)

    def action_model(self, draft: dict[str, str] | None = None) -> None:
        """Add a model version, or change one's approval status or limitations."""
        d = self._need_detail()
        if d is None:
            return

        def chosen(form: ModelForm | None) -> None:
            if form is None:
                return
            from app.services.systems import set_model_version

            def job() -> tuple[str, int | None]:
                row, change = set_model_version(self.store, d.label, form.version,
                                                approval_status=form.approval_status,
                                                limitations=form.limitations)
                what = "added" if "version" in change else (
                    "saved " + ", ".join(change) if change else "unchanged")
                return f"{d.label} model {row.version}: {what}", d.system.id

            start_register_write(self, f"Saving a model of {d.label}", job,
                                 "Model version not saved",
                                 lambda: self.action_model(form.values), title="Systems")

        self.app.push_screen(ModelVersionDialog(d, draft), chosen)

    def action_reload(self) -> None:
        """Read the inventory from the workspace again."""
        self._head = None
        self.detail = None
        self.load()
