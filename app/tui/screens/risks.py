"""Risks: the register of the AI systems' risks, each with its latest level in its matrix's
colour, filtered by system, treatment, category and title; the highlighted risk's cause →
event → consequence, its three stages, knowledge, treatment, links and review, with the trend
of its level over its assessments; and a heat map of the register (Enter on a cell lists its
risks). Add (`a`), re-score (`s`), treat (`t`), accept (`A`), link (`l`), edit (`e`). The
register is read in a worker and drawn by a line-API table, so 5,000 risks open at once;
every write runs in a thread worker."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Select, Sparkline, Static
from textual.worker import get_current_worker

from app.domain import risk as rk
from app.errors import CrosswalkError
from app.services.audit import head_seq
from app.services.risks import RiskDetail, StageScore
from app.tui.markup import escape
from app.tui.messages import (
    RegisterChanged,
    RegisterFailed,
    RiskDetailLoaded,
    RiskMapsLoaded,
    RisksLoaded,
)
from app.tui.screens.base import SectionScreen
from app.tui.screens.risk_dialogs import (
    AcceptDialog,
    AcceptForm,
    RiskDialog,
    RiskForm,
    RiskLinkDialog,
    RiskLinkForm,
    ScoreDialog,
    ScoreForm,
    TreatDialog,
    start_register_write,
)
from app.tui.widgets.heatmap import HeatMap
from app.tui.widgets.plain_select import PlainSelect
from app.tui.widgets.risk_table import RiskTable

ALL = "all"


def level_markup(score: StageScore | None, width: int = 0) -> str:
    """A level as a badge in its matrix colour (its name carries the meaning), padded to
    `width` so that what follows lines up."""
    if score is None:
        return f"[dim]{'unscored':<{width + 2}}[/]"
    from app.tui.widgets.risk_table import level_style

    style = level_style(score.colour)
    colour = style.color.name if style.color else "#ffffff"
    return f"[b {colour} on {score.colour}] {escape(score.level):<{width}} [/]"


def history_level(entry: dict[str, object]) -> tuple[str, str, int, int] | None:
    """(stage, level name, likelihood, impact) of the most advanced stage of one
    assessment."""
    for stage in ("residual", "current", "inherent"):
        s = entry.get(stage)
        if isinstance(s, dict):
            return stage, str(s["level"]), int(s["likelihood"]), int(s["impact"])
    return None


def trend(detail: RiskDetail, matrices: dict[str, rk.Matrix] | None = None
          ) -> tuple[list[float], str]:
    """The level rank of each assessment (for a sparkline; 1 = the lowest level) and the
    levels in words. An assessment on another matrix is ranked on that matrix."""
    ranks: list[float] = []
    words: list[str] = []
    for entry in detail.history:
        found = history_level(entry)
        if found is None:
            continue
        m = (matrices or {}).get(str(entry.get("matrix")), detail.matrix)
        try:
            ranks.append(m.rank(found[2], found[3]) + 1)
        except IndexError:
            ranks.append(1)
        words.append(found[1])
    return ranks, " → ".join(words)


def detail_markup(d: RiskDetail, today: str) -> str:
    """Cause → event → consequence, the stages, knowledge, treatment, links and review.
    Everything that came from a user is escaped."""
    r, m = d.risk, d.matrix
    lines = [f"[dim]{rk.system_label(r.system_id)} {escape(d.system)} · "
             f"{escape(r.category)} · owner {escape(r.owner) or '—'} · matrix {m.ref}[/]", ""]
    chain = [("cause", r.cause), ("event", r.event), ("consequence", r.consequence)]
    if any(text for _, text in chain):
        lines.append("[b]Cause → event → consequence[/]")
        lines.append(" → ".join(escape(" ".join(t.split())) or f"[dim]no {n}[/]"
                                for n, t in chain))
    else:
        lines.append("[b]Cause → event → consequence[/] [dim]not written yet (e edits)[/]")
    lines += ["", "[b]Scores[/]"]
    for stage in rk.STAGES:
        s = d.stage(stage)
        if s is None:
            lines.append(f" {stage:<9} [dim]not scored[/]")
            continue
        lines.append(f" {stage:<9} {level_markup(s)} "
                     f"{escape(m.likelihood[s.likelihood - 1].name)} ({s.likelihood}) × "
                     f"{escape(m.impact[s.impact - 1].name)} ({s.impact})")
    lines += ["", f"[b]Knowledge[/] {r.knowledge}"
              + (f" — {escape(r.knowledge_justification)}" if r.knowledge_justification
                 else "")]
    treat = f"[b]Treatment[/] {r.treatment}"
    if r.treatment == "accept":
        expired = r.acceptance_expires and r.acceptance_expires < today
        until = (f"[b $text-error]{r.acceptance_expires} (expired)[/]" if expired
                 else r.acceptance_expires or "?")
        treat += (f" · accepted by {escape(r.accepted_by or '[no approver]')} until {until}"
                  + (f" — {escape(r.acceptance_justification)}"
                     if r.acceptance_justification else ""))
    lines.append(treat)
    links = ", ".join(escape(t) for _, t in d.links)
    lines.append(f"[b]Links[/] {links}" if links else
                 "[b]Links[/] [dim]none — press l to link a control, clause or evidence[/]")
    review = "[dim]no date set[/]"
    if r.review_on:
        review = (f"[b $text-error]{r.review_on} (overdue)[/]" if r.review_on < today
                  else r.review_on)
    if r.review_every_days:
        review += f" · every {r.review_every_days} days"
    lines.append(f"[b]Review[/] {review}")
    lines += ["", f"[b]Assessments[/] ({len(d.history)})"]
    for entry in reversed(d.history):
        found = history_level(entry)
        level = f"{found[1]} ({found[0]})" if found else "unscored"
        note = f" — {escape(str(entry.get('note') or ''))}" if entry.get("note") else ""
        lines.append(f" {str(entry['scored_at'])[:16].replace('T', ' ')} "
                     f"{escape(str(entry['scored_by']))} · {entry['matrix']} · "
                     f"{escape(level)}{note}")
    return "\n".join(lines)


class RisksScreen(SectionScreen):
    SECTION_ID = "risks"
    AUTO_FOCUS = "#rk-table"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add risk", id="risks-add",
                tooltip="Add a risk: system, category, matrix, scores, cause → event → "
                        "consequence"),
        Binding("s", "score", "Re-score", id="risks-score",
                tooltip="Score the highlighted risk again (its history keeps every "
                        "assessment), or re-assess it on another matrix"),
        Binding("t", "treat", "Treat", id="risks-treat",
                tooltip="Set the treatment: open, mitigate, avoid or transfer"),
        Binding("A", "accept", "Accept", id="risks-accept", key_display="A",
                tooltip="Accept the highlighted risk: approver, justification, expiry"),
        Binding("l", "link", "Link", id="risks-link",
                tooltip="Link the highlighted risk to a control, a clause or evidence"),
        Binding("e", "edit", "Edit", id="risks-edit",
                tooltip="Edit the risk: title, system, category, owner, cause, knowledge, "
                        "review"),
        Binding("slash", "filter", "Filter", id="risks-filter", key_display="/",
                tooltip="Filter the register by words of its title"),
        Binding("m", "heatmap", "Heat map", id="risks-heatmap",
                tooltip="Move to the heat map: arrows choose a cell, Enter lists its risks"),
        Binding("v", "cycle_stage", "Stage", id="risks-stage",
                tooltip="Show the heat map of the inherent, current or residual scores"),
        Binding("r", "reload", "Reload", id="risks-reload"),
        Binding("escape", "clear_filter", "Clear filters", id="risks-clear-filter",
                show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._head: int | None = None
        self._keep: int | None = None
        self.detail: RiskDetail | None = None
        self.loaded: RiskMapsLoaded | None = None  # the systems and matrices, the maps
        self._cell: str | None = None  # the heat-map cell the register is filtered to
        self._reading: int | None = None  # the risk whose detail is being read

    def compose_body(self) -> ComposeResult:
        yield Horizontal(id="rk-bar")  # the filters: mounted after the first frame
        table = RiskTable(id="rk-table")
        table.border_title = "Risks"
        yield table
        # the heat map joins the detail in #rk-lower once the first rows are drawn
        with Horizontal(id="rk-lower"), Vertical(id="rk-detail"):
            yield Static("[dim]Choose a risk to see its scores, treatment and trend.[/]",
                         id="rk-head")
            yield Horizontal(id="rk-trend-row")  # the trend: mounted with the filters
            with VerticalScroll(id="rk-info"):
                yield Static(id="rk-info-text")

    @property
    def table(self) -> RiskTable:
        return self.query_one(RiskTable)

    @property
    def heatmap(self) -> HeatMap | None:
        """The heat map, once mounted (after the register's first rows)."""
        found = self.query(HeatMap)
        return found.first() if found else None

    # ------------------------------------------------------------------ data
    def on_mount(self) -> None:
        super().on_mount()
        self.load()  # now, not at the first resume: the register is read while laying out

    def build_columns(self) -> None:
        if (heat := self.heatmap) is not None:
            heat.compact = self.narrow

    def _mount_the_rest(self) -> None:
        """The filter bar, the trend and the heat map, once the register's rows are on
        screen: the first widgets of their kinds cost Textual a new parse of the styles and a
        restyle of the whole app, which should not delay the rows (nor slow the worker
        reading them, which shares the interpreter with it)."""
        if self.query("#rk-bar > *"):
            return
        heat = HeatMap(id="rk-heatmap")
        heat.compact = self.narrow
        if self.loaded is not None:
            heat.show(self.loaded.maps)
        self.query_one("#rk-lower").mount(heat)
        self.query_one("#rk-trend-row").mount(Sparkline([], id="rk-trend"),
                                              Static(id="rk-trend-text"))
        if self.detail is not None:
            self.call_after_refresh(self._show_detail, self.detail)
        self.call_after_refresh(self.refresh_bindings)  # `/` works now: the footer says so
        self.query_one("#rk-bar").mount(
            PlainSelect(self._system_choices(), value=ALL, allow_blank=False, id="rk-system",
                   compact=True),
            PlainSelect([("all treatments", ALL)] + [(t, t) for t in rk.TREATMENTS], value=ALL,
                   allow_blank=False, id="rk-treatment", compact=True),
            PlainSelect([("all categories", ALL)] + [(c, c) for c in rk.CATEGORIES], value=ALL,
                   allow_blank=False, id="rk-category", compact=True),
            Input(placeholder="filter titles (/)", id="rk-filter", compact=True))

    def _system_choices(self) -> list[tuple[str, str]]:
        systems = self.loaded.systems if self.loaded is not None else []
        return [("all systems", ALL)] + [(f"{rk.system_label(s.id or 0)} {s.name}", str(s.id))
                                         for s in systems]

    def refresh_data(self) -> None:
        if any(w.group == "risk-list" and not w.is_finished for w in self.workers):
            return  # being read
        if self._head == head_seq(self.store) and self.table.loaded:
            return  # nothing written since the register was read
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="risk-list",
          description="Reading the risk register")
    def load(self) -> None:  # thread: post messages only
        from app.services.risk_checks import heatmap
        from app.services.risk_matrices import list_matrices
        from app.services.risks import list_risks, today
        from app.services.systems import list_systems

        worker = get_current_worker()
        head = head_seq(self.store)
        rows = list_risks(self.store)
        if worker.is_cancelled:
            return
        self.post_message(RisksLoaded(rows, today(self.store).isoformat(), head))
        maps = {stage: heatmap(self.store, stage, rows=rows) for stage in rk.STAGES}
        message = RiskMapsLoaded(maps, list_systems(self.store), list_matrices(self.store))
        if not worker.is_cancelled:
            self.post_message(message)

    def on_risks_loaded(self, message: RisksLoaded) -> None:
        self._head = message.head
        table = self.table
        table.today = message.today
        if self._cell is not None:  # the cell's risks may have changed: read them again
            self._cell = None
            table.only(None)
        table.show(message.rows, keep=self._keep)
        self._keep = None
        self._summary()
        self.call_after_refresh(self._mount_the_rest)

    def on_risk_maps_loaded(self, message: RiskMapsLoaded) -> None:
        self.loaded = message
        if (heat := self.heatmap) is not None:
            heat.show(message.maps)
        self._system_options()

    def _system_options(self) -> None:
        found = self.query("#rk-system")
        if not found:
            return  # not there yet: it is built with the choices when it is
        select = found.first(Select)
        if not (select.query("SelectOverlay") and select.query("SelectCurrent #label")):
            self.call_after_refresh(self._system_options)  # mounted, not yet composed
            return
        value = select.value
        options = self._system_choices()
        with select.prevent(Select.Changed):
            select.set_options(options)
            select.value = value if any(v == value for _, v in options) else ALL

    def _summary(self) -> None:
        table = self.table
        rows, shown = table.rows, table.shown
        high = sum(1 for r in rows if r.latest is not None and r.latest.high)
        overdue = sum(1 for r in rows if r.review_on and r.review_on < table.today)
        count = f"{len(shown):,} of {len(rows):,}" if len(shown) != len(rows) else \
            f"{len(rows):,}"
        parts = [f"Risks {count}", f"{high:,} high"]
        if overdue:
            parts.append(f"[$text-error]{overdue:,} review{'s' if overdue != 1 else ''} "
                         "overdue[/]")
        if self._cell:
            parts.append(f"[b]cell {escape(self._cell)}[/] (esc clears)")
        table.border_title = " · ".join(parts)

    @on(Select.Changed, "#rk-system")
    @on(Select.Changed, "#rk-treatment")
    @on(Select.Changed, "#rk-category")
    @on(Input.Changed, "#rk-filter")
    def _filtered(self) -> None:
        if not self.query("#rk-filter"):
            return  # the filter bar is not mounted yet
        system = str(self.query_one("#rk-system", Select).value)
        treatment = str(self.query_one("#rk-treatment", Select).value)
        category = str(self.query_one("#rk-category", Select).value)
        self.table.filter(None if system == ALL else int(system),
                          None if treatment == ALL else treatment,
                          None if category == ALL else category,
                          self.query_one("#rk-filter", Input).value)
        self._summary()

    @on(Input.Submitted, "#rk-filter")
    def _filter_done(self) -> None:
        self.table.focus()

    @on(HeatMap.CellChosen)
    def _cell_chosen(self, event: HeatMap.CellChosen) -> None:
        self._cell = event.label
        self.table.only(event.risks)
        self._summary()
        self.table.focus()

    # ------------------------------------------------------------------ the detail
    @on(RiskTable.Moved)
    def _moved(self, event: RiskTable.Moved) -> None:
        if event.row is None:
            self.detail = None
            self.query_one("#rk-head", Static).update(
                "[dim]No risks yet: press a to add one (its system comes from 7 Systems).[/]"
                if not self.table.rows else "[dim]No risk matches the filters.[/]")
            self._trend([], "")
            self.query_one("#rk-info-text", Static).update("")
            return
        if (self.detail is None or self.detail.risk.id != event.row.id) \
                and self._reading != event.row.id:
            self._reading = event.row.id
            self.load_detail(event.row.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="risk-detail",
          description="Reading the risk")
    def load_detail(self, risk_id: int) -> None:  # thread: post messages only
        from app.services.risks import get_risk

        try:
            detail = get_risk(self.store, risk_id)
        except CrosswalkError:
            return  # removed meanwhile: the next reload drops the row
        if not get_current_worker().is_cancelled:
            self.post_message(RiskDetailLoaded(detail))

    def on_risk_detail_loaded(self, message: RiskDetailLoaded) -> None:
        d = message.detail
        if self._reading == d.risk.id:
            self._reading = None
        current = self.table.current
        if current is None or current.id != d.risk.id:
            return  # the cursor moved on meanwhile
        self.detail = d
        self._show_detail(d)

    def _show_detail(self, d: RiskDetail) -> None:
        current = self.table.current
        if current is None or current.id != d.risk.id:
            return
        latest = current.latest
        stage = next((s for s in ("residual", "current", "inherent") if d.stage(s)), None)
        self.query_one("#rk-head", Static).update(
            f"[b]{d.label}[/] {level_markup(latest)}"
            f"{f' [dim]({stage})[/]' if stage else ''}  [b]{escape(d.risk.title)}[/]")
        ranks, words = trend(d, {v.matrix.ref: v.matrix for v in self.loaded.matrices}
                             if self.loaded is not None else None)
        n = len(ranks)
        self._trend(ranks, f"[dim]trend[/] {escape(words)} [dim]({n} assessment"
                           f"{'s' if n != 1 else ''})[/]" if ranks else
                    "[dim]trend: not scored yet (s scores it)[/]")
        self.query_one("#rk-info-text", Static).update(detail_markup(d, self.table.today))

    def _trend(self, ranks: list[float], text: str) -> None:
        """The sparkline and the levels in words (once they are mounted)."""
        if not self.query("#rk-trend-text"):
            return
        self.query_one(Sparkline).data = ranks
        self.query_one("#rk-trend-text", Static).update(text)

    # ------------------------------------------------------------------ writes
    def on_register_changed(self, message: RegisterChanged) -> None:
        self.notify(message.summary, title=message.title, markup=False)
        self._keep = message.target
        self.detail = None
        self._reading = None
        self.load()

    def on_register_failed(self, message: RegisterFailed) -> None:
        self.notify(message.error, title=message.title, severity="error", markup=False)
        if message.reopen is not None:
            message.reopen()

    def _need_detail(self) -> RiskDetail | None:
        current = self.table.current
        if current is None:
            self.notify("no risk highlighted", severity="warning", markup=False)
            return None
        if self.detail is None or self.detail.risk.id != current.id:
            self.notify("still reading this risk; try again", severity="warning", markup=False)
            return None
        return self.detail

    def _lists(self) -> tuple[list, list]:  # type: ignore[type-arg]
        if self.loaded is None:
            return [], []
        return self.loaded.systems, self.loaded.matrices

    def action_add(self, draft: dict[str, str] | None = None) -> None:
        """Add a risk to the register."""
        systems, matrices = self._lists()
        if self.loaded is None:
            self.notify("still reading the register; try again", severity="warning", markup=False)
            return
        if not systems:
            self.notify("add the AI system first, on 7 Systems", severity="warning", markup=False)
            return

        def chosen(form: RiskForm | None) -> None:
            if form is None:
                return
            from app.services.risks import add_risk

            def job() -> tuple[str, int | None]:
                row = add_risk(self.store, title=form.fields["title"], system=form.system,
                               category=form.fields["category"], matrix=form.matrix,
                               controls=form.controls, **form.scores,
                               **{k: v for k, v in form.fields.items()
                                  if k not in ("title", "category")})
                return f"{rk.risk_label(row.id or 0)} added: {row.title}", row.id

            start_register_write(self, "Adding a risk", job, "Risk not added",
                                 lambda: self.action_add(form.values))

        self.app.push_screen(RiskDialog(self.store, systems, matrices, draft=draft), chosen)

    def action_edit(self, draft: dict[str, str] | None = None) -> None:
        """Edit the highlighted risk."""
        d = self._need_detail()
        if d is None:
            return
        systems, matrices = self._lists()

        def chosen(form: RiskForm | None) -> None:
            if form is None:
                return
            if not form.fields and not form.system:
                self.notify(f"{d.label}: nothing changed", markup=False)
                return
            from app.services.risks import update_risk

            def job() -> tuple[str, int | None]:
                _, change = update_risk(self.store, d.label, system=form.system or None,
                                        **form.fields)
                return f"{d.label}: saved {', '.join(change) or 'nothing new'}", d.risk.id

            start_register_write(self, f"Saving {d.label}", job, "Not saved",
                                 lambda: self.action_edit(form.values))

        self.app.push_screen(RiskDialog(self.store, systems, matrices, d, draft), chosen)

    def action_score(self, draft: dict[str, str] | None = None) -> None:
        """Re-score the highlighted risk (or re-assess it on another matrix)."""
        d = self._need_detail()
        if d is None:
            return

        def chosen(form: ScoreForm | None) -> None:
            if form is None:
                return
            from app.services.risks import score_risk

            def job() -> tuple[str, int | None]:
                row = score_risk(self.store, d.label, matrix=form.matrix, note=form.note,
                                 **form.scores)
                return f"{d.label} re-scored ({len(d.history) + 1} assessments)", row.id

            start_register_write(self, f"Scoring {d.label}", job, "Not scored",
                                 lambda: self.action_score(form.values))

        self.app.push_screen(ScoreDialog(d, self._lists()[1], draft), chosen)

    def action_treat(self) -> None:
        """Set the highlighted risk's treatment."""
        d = self._need_detail()
        if d is None:
            return

        def chosen(treatment: str | None) -> None:
            if not treatment:
                return
            from app.services.risks import treat_risk

            def job() -> tuple[str, int | None]:
                change = treat_risk(self.store, d.label, treatment)
                return (f"{d.label}: treatment {treatment}" if change else
                        f"{d.label}: already {treatment}"), d.risk.id

            start_register_write(self, f"Treating {d.label}", job, "Not treated")

        self.app.push_screen(TreatDialog(d), chosen)

    def action_accept(self, draft: dict[str, str] | None = None) -> None:
        """Accept the highlighted risk (approver, justification, expiry)."""
        d = self._need_detail()
        if d is None:
            return

        def chosen(form: AcceptForm | None) -> None:
            if form is None:
                return
            from app.services.risks import accept_risk

            def job() -> tuple[str, int | None]:
                accept_risk(self.store, d.label, approver=form.approver,
                            justification=form.justification, expires=form.expires)
                return f"{d.label} accepted by {form.approver} until {form.expires}", d.risk.id

            start_register_write(self, f"Accepting {d.label}", job, "Not accepted",
                                 lambda: self.action_accept(form.values))

        self.app.push_screen(AcceptDialog(self.store, d, draft), chosen)

    def action_link(self, draft: dict[str, str] | None = None) -> None:
        """Link the highlighted risk to a control, clauses or evidence."""
        d = self._need_detail()
        if d is None:
            return

        def chosen(form: RiskLinkForm | None) -> None:
            if form is None:
                return
            from app.services.risks import link_risk

            def job() -> tuple[str, int | None]:
                linked = link_risk(self.store, d.label, controls=form.controls,
                                   clauses=form.clauses, evidence=form.evidence)
                return f"{d.label} linked to {', '.join(linked)}", d.risk.id

            start_register_write(self, f"Linking {d.label}", job, "Not linked",
                                 lambda: self.action_link(form.values))

        self.app.push_screen(RiskLinkDialog(d, draft), chosen)

    # ------------------------------------------------------------------ filters, keys
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("filter",):
            return bool(self.query("#rk-filter"))  # once the filter bar is there
        return True

    def action_filter(self) -> None:
        """Type to filter the register by title."""
        self.query_one("#rk-filter", Input).focus()

    def action_heatmap(self) -> None:
        """Move to the heat map."""
        if (heat := self.heatmap) is not None:
            heat.focus()

    def action_cycle_stage(self) -> None:
        """Show the heat map of the next stage."""
        if (heat := self.heatmap) is not None:
            heat.action_cycle_stage()

    def action_clear_filter(self) -> None:
        """Clear the heat-map cell first, then every filter."""
        if self._cell is not None:
            self._cell = None
            self.table.only(None)
        elif self.query("#rk-filter"):
            self.query_one("#rk-filter", Input).value = ""
            for select_id in ("#rk-system", "#rk-treatment", "#rk-category"):
                self.query_one(select_id, Select).value = ALL
        self._summary()
        self.table.focus()

    def action_reload(self) -> None:
        """Read the register from the workspace again."""
        self._head = None
        self.detail = None
        self._reading = None
        self.load()
