"""Regulations: pick a regulation version, browse its clause tree (loaded lazily), read a
clause with its mappings, filter as you type, import a document, and diff two versions."""

from __future__ import annotations

import gc
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Input, ProgressBar, Select, Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import Worker, get_current_worker

from app.domain.clauses import RegulationDoc
from app.errors import CrosswalkError, DetailsNeeded
from app.services.audit import head_seq
from app.services.clause_index import ClauseIndex, ClauseRow
from app.services.evidence_status import clause_evidence
from app.services.regulations import (
    RegulationInfo,
    clause_mappings,
    enclosing_mappings,
    get_clause,
    list_regulations,
    mappings_below,
)
from app.tui.markup import escape
from app.tui.messages import (
    ClauseIndexLoaded,
    EvidenceChanged,
    EvidenceFailed,
    ImportDetailsWanted,
    ImportDone,
    ImportPlanned,
    ImportProgress,
    ImportStopped,
    MappingImportPlanned,
)
from app.tui.screens.base import SectionScreen
from app.tui.screens.evidence_dialogs import EvidencePickerDialog, start_write, status_markup
from app.tui.screens.import_dialogs import (
    DiffDialog,
    FilePickerDialog,
    ImportDetails,
    ImportDetailsDialog,
    ImportPlanDialog,
    MappingImportDialog,
)
from app.tui.screens.scope_dialogs import (
    ScopeChanged,
    ScopeDialog,
    ScopeFailed,
    ScopeForm,
    ScopeLoaded,
    start_scope_write,
)
from app.tui.widgets.plain_select import PlainSelect

if TYPE_CHECKING:
    from app.services.applicability import ScopeDecision
    from app.services.evidence_status import EvidenceRow
    from app.store.models import Clause, Mapping

MAX_SHOWN = 100


class _Stopped(Exception):
    """Raised inside the reading worker when the user cancels."""
RECITALS = -1  # the data of the folded "Recitals" node


class RegulationsScreen(SectionScreen):
    SECTION_ID = "regulations"
    AUTO_FOCUS = "#clause-tree"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="regulations-filter", key_display="/",
                tooltip="Filter the clauses by ref or words"),
        Binding("i", "import_file", "Import", id="regulations-import",
                tooltip="Import a regulation or its official text from a file"),
        Binding("d", "diff", "Diff versions", id="regulations-diff",
                tooltip="Compare two versions of this regulation"),
        Binding("l", "link_evidence", "Link evidence", id="regulations-link-evidence",
                tooltip="Choose a piece of evidence and link it to the highlighted clause"),
        Binding("n", "scope", "Applicability", id="regulations-applicability",
                tooltip="Declare the highlighted clause not applicable (with a "
                        "justification) or applicable again"),
        Binding("r", "reload", "Reload", id="regulations-reload"),
        Binding("escape", "clear_filter", "Clear filter", id="regulations-clear-filter",
                show=False),
        Binding("ctrl+x", "cancel_import", "Cancel import", id="regulations-cancel-import"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._regs: list[RegulationInfo] = []
        self.index: ClauseIndex | None = None
        self._loaded_for: int | None = None
        self._import: Worker[None] | None = None
        self._detail_timer: Timer | None = None
        self._clause_id: int | None = None  # the clause shown in the detail
        self._decisions: list[ScopeDecision] = []  # every clause not applicable
        self._na: dict[int, ScopeDecision] = {}  # those of the loaded version, by clause id
        self._index_head: int | None = None  # the audit head when the tree was read

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="reg-bar"):
            yield PlainSelect[int]([], prompt="no regulations", id="reg-select", allow_blank=True)
            yield Input(placeholder="filter: ref or words (/)", id="clause-filter")
        with Horizontal(id="reg-split"):
            # the whole tree is built once per regulation; filter matches go to a second tree
            # on a layer above it, so typing never rebuilds, hides or re-lays-out the big one
            with Container(id="tree-stack"):
                for tree_id in ("clause-tree", "match-tree"):
                    tree: Tree[int] = Tree("clauses", id=tree_id)
                    tree.show_root = False
                    tree.auto_expand = False
                    yield tree
            with Vertical(id="clause-side"):
                with Horizontal(id="import-status"):
                    yield Static(id="import-phase")
                    yield ProgressBar(total=1.0, show_eta=False, id="import-progress")
                yield Static(id="reg-info")
                with VerticalScroll(id="clause-detail"):
                    yield Static(id="clause-text")

    # ----------------------------------------------------------------- data
    def refresh_data(self) -> None:
        self._regs = list_regulations(self.store)
        select = self.query_one("#reg-select", Select)
        current = select.value if select.value is not Select.NULL else None
        options = [(f"{r.code} {r.version_label}{'' if r.latest else ' (older)'}", r.id)
                   for r in self._regs]
        with self.app.batch_update():
            select.set_options(options)
            ids = [r.id for r in self._regs]
            if current in ids:
                select.value = current
            elif ids:
                select.value = next(r.id for r in self._regs if r.latest)
        if self._loaded_for is not None and self._loaded_for in ids \
                and self._index_head != head_seq(self.store):
            self._load(self._loaded_for)  # a reload: contents may have changed

    @on(Select.Changed, "#reg-select")
    def _regulation_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, int) and event.value != self._loaded_for:
            self._load(event.value)

    def _load(self, regulation_id: int) -> None:
        self._index_head = head_seq(self.store)  # what the tree shows: nothing written since
        self.load_index(regulation_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="clause-index",
          description="Loading the clause tree")
    def load_index(self, regulation_id: int) -> None:  # thread: post messages only
        from app.services.applicability import list_decisions

        self.post_message(ScopeLoaded(list_decisions(self.store)))  # first: the tree uses it
        self.post_message(ClauseIndexLoaded(regulation_id,
                                            ClauseIndex.load(self.store, regulation_id)))

    def on_clause_index_loaded(self, message: ClauseIndexLoaded) -> None:
        again = message.regulation_id == self._loaded_for
        keep = self._clause_id if again and self._clause_id in message.index.by_id else None
        self.index = message.index
        # The index is thousands of long-lived, acyclic objects: keep them out of the cyclic
        # collector's sweeps, which otherwise cost up to ~80 ms on a keystroke now and then.
        gc.freeze()
        self._loaded_for = message.regulation_id
        info = next((r for r in self._regs if r.id == message.regulation_id), None)
        if info is not None:
            self.query_one("#reg-info", Static).update(_info_markup(info))
        self._scope_of_version()
        self.show_tree(self.query_one("#clause-filter", Input).value, keep=keep)

    # ----------------------------------------------------------------- applicability
    def on_scope_loaded(self, message: ScopeLoaded) -> None:
        self._decisions = message.decisions
        if not message.relabel or self.index is None:
            return  # the clause index comes next and draws the tree with them
        self._scope_of_version()
        for tree in self.query(Tree).results(Tree):
            stack = list(tree.root.children)
            while stack:  # the nodes built so far (the tree loads lazily)
                node = stack.pop()
                stack.extend(node.children)
                row = self.index.by_id.get(node.data) if isinstance(node.data, int) else None
                if row is not None:
                    node.set_label(_row_label(row, self._scope_state(row)))
        if self._clause_id is not None:
            self.show_clause(self._clause_id)

    def _scope_of_version(self) -> None:
        """The decisions that concern the loaded version, by clause id."""
        info = next((r for r in self._regs if r.id == self._loaded_for), None)
        if info is None or self.index is None:
            self._na = {}
            return
        by_ref = {r.ref: r.id for r in self.index.rows}
        self._na = {by_ref[d.ref]: d for d in self._decisions
                    if d.code == info.code and d.version_label == info.version_label
                    and d.ref in by_ref}

    def _scope_state(self, row: ClauseRow) -> tuple[ClauseRow, ScopeDecision] | None:
        """The clause declared not applicable that takes `row` out of scope (itself or one
        enclosing it), with its decision; None when `row` applies."""
        if not self._na or self.index is None:
            return None
        at: ClauseRow | None = row
        while at is not None:
            if at.id in self._na:
                return at, self._na[at.id]
            at = self.index.by_id.get(at.parent_id) if at.parent_id is not None else None
        return None

    @work(thread=True, exclusive=True, exit_on_error=False, group="clause-scope",
          description="Reading the applicability decisions")
    def load_scope(self) -> None:  # thread: post messages only
        from app.services.applicability import list_decisions

        self.post_message(ScopeLoaded(list_decisions(self.store), relabel=True))

    def _full_ref(self, clause: Clause) -> str | None:
        reg = next((r for r in self._regs if r.id == clause.regulation_id), None)
        if reg is None:
            return None
        return f"{reg.code} {clause.ref}" if reg.latest else \
            f"{reg.code}@{reg.version_label} {clause.ref}"

    def action_scope(self, draft: ScopeForm | None = None) -> None:
        """Declare the highlighted clause not applicable, or applicable again."""
        clause_id = self._clause_id
        if clause_id is None or self.index is None:
            self.notify("choose a clause first", severity="warning", markup=False)
            return
        try:
            clause = get_clause(self.store, clause_id)
        except CrosswalkError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        full_ref = self._full_ref(clause)
        if full_ref is None:
            return
        self._open_scope(clause, full_ref, draft)

    def _open_scope(self, clause: Clause, full_ref: str, draft: ScopeForm | None) -> None:
        assert clause.id is not None and self.index is not None
        row = self.index.by_id.get(clause.id)
        state = self._scope_state(row) if row is not None else None
        inherited = state[0].ref if state is not None and state[0].id != clause.id else None

        def chosen(form: ScopeForm | None) -> None:
            if form is not None:
                start_scope_write(self, self.store, full_ref, form)

        self.app.push_screen(ScopeDialog(full_ref, clause.title or clause.summary or "",
                                         self._na.get(clause.id), inherited_from=inherited,
                                         draft=draft), chosen)

    def on_scope_changed(self, message: ScopeChanged) -> None:
        self.notify(message.summary, title="Applicability", markup=False)
        self.load_scope()

    def on_scope_failed(self, message: ScopeFailed) -> None:
        self.notify(message.error, title="Applicability not changed", severity="error",
                    markup=False)
        if self._clause_id is not None:
            self.action_scope(message.draft)  # give the user their form back

    # ----------------------------------------------------------------- tree
    def show_tree(self, query: str = "", *, keep: int | None = None) -> None:
        """Build the whole tree for the loaded regulation (roots only; the rest loads on
        expand), then show it or the filter's matches; on a reload, the clause that was
        shown (`keep`) stays under the cursor."""
        tree = self.query_one("#clause-tree", Tree)
        index = self.index
        with self.app.batch_update():
            tree.clear()
            if index is not None:
                roots = index.roots()
                recitals = [r for r in roots if r.kind == "recital"]
                if len(recitals) > 1:  # one folded line instead of 180 at the top
                    tree.root.add(f"[b]Recitals[/] {recitals[0].ref[8:]}–{recitals[-1].ref[8:]}"
                                  " [dim](not assessable)[/]", data=RECITALS,
                                  allow_expand=True)
                for row in roots:
                    if row.kind != "recital" or len(recitals) <= 1:
                        self._add(tree.root, row)
        self.show_matches(query)
        if not query.strip() and not (keep is not None and self._reveal(tree, keep)):
            self._show_first(tree)

    def _reveal(self, tree: Tree[int], clause_id: int) -> bool:
        """Expand the branches down to `clause_id`, put the cursor on it and show it."""
        if self.index is None:
            return False
        chain: list[int] = []
        at = self.index.by_id.get(clause_id)
        while at is not None:
            chain.append(at.id)
            at = self.index.by_id.get(at.parent_id) if at.parent_id is not None else None
        node = tree.root
        for cid in reversed(chain):
            child = next((n for n in node.children if n.data == cid), None)
            if child is None:
                return False  # e.g. inside the folded recitals
            if cid != clause_id:
                self._fill(child)
                child.expand()
            node = child
        self.call_after_refresh(tree.move_cursor, node)
        self.show_clause(clause_id)
        return True

    def show_matches(self, query: str) -> None:
        """The filter's matches in the second tree, or the whole tree when there is none."""
        matches = self.query_one("#match-tree", Tree)
        box = self.query_one("#clause-filter", Input)
        filtering = bool(query.strip()) and self.index is not None
        with self.app.batch_update():
            matches.display = filtering
            if not filtering:
                box.border_subtitle = ""
                return
            assert self.index is not None
            found, total = self.index.search(query, MAX_SHOWN)
            matches.clear()
            for row in found:
                self._add(matches.root, row, leaf=True)
            more = f" (showing {MAX_SHOWN})" if total > MAX_SHOWN else ""
            box.border_subtitle = f"{total:,} matches{more}"
        self._show_first(matches, defer=True)

    def _show_first(self, tree: Tree[int], *, defer: bool = False) -> None:
        """Put the cursor on the first line and show that clause (or nothing). While the user
        types (`defer`), the clause's detail waits for a pause in the typing."""
        first = next((n.data for n in tree.root.children if n.data != RECITALS), None)
        if tree.root.children:
            tree.move_cursor_to_line(0)
        if first is not None:
            self._detail(first, defer=defer)
        elif self._detail_timer is not None:
            self._detail_timer.stop()
            self.query_one("#clause-text", Static).update(
                "[dim]No clause matches the filter.[/]" if tree.id == "match-tree" else "")

    def _add(self, parent: TreeNode[int], row: ClauseRow, *, leaf: bool = False) -> None:
        label = _row_label(row, self._scope_state(row))
        if not leaf and self.index is not None and self.index.kids(row.id):
            parent.add(label, data=row.id, allow_expand=True)
        else:
            parent.add_leaf(label, data=row.id)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[int]) -> None:
        self._fill(event.node)

    def _fill(self, node: TreeNode[int]) -> None:
        """Add a node's children, once (the tree is built lazily)."""
        if self.index is None or node.data is None or node.children:
            return
        rows = ([r for r in self.index.roots() if r.kind == "recital"] if node.data == RECITALS
                else self.index.kids(node.data))
        for row in rows:
            self._add(node, row)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[int]) -> None:
        if event.node.data is None or event.node.data == RECITALS:
            return
        typing = self.query_one("#clause-filter", Input).has_focus
        self._detail(event.node.data, defer=typing)

    def _detail(self, clause_id: int, *, defer: bool) -> None:
        """Show a clause's detail now, or (while the user types) once the typing pauses."""
        if self._detail_timer is not None:
            self._detail_timer.stop()
            self._detail_timer = None
        if defer:
            self._detail_timer = self.set_timer(0.2, lambda: self.show_clause(clause_id))
        else:
            self.show_clause(clause_id)

    def show_clause(self, clause_id: int) -> None:
        try:
            c = get_clause(self.store, clause_id)
            maps = clause_mappings(self.store, clause_id)
            above = enclosing_mappings(self.store, c)
            below = (mappings_below(self.store, self.index.descendants(clause_id))
                     if self.index is not None else [])
            evidence = clause_evidence(self.store, clause_id)
        except CrosswalkError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self._clause_id = clause_id
        row = self.index.by_id.get(clause_id) if self.index is not None else None
        scope = _scope_markup(row, self._scope_state(row) if row is not None else None)
        self.query_one("#clause-text", Static).update(
            _clause_markup(c, maps, above, below, scope) + "\n\n"
            + _evidence_markup(evidence))

    @on(Input.Changed, "#clause-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.show_matches(event.value)

    @on(Input.Submitted, "#clause-filter")
    def _filter_done(self, _event: Input.Submitted) -> None:
        self._visible_tree().focus()

    def _visible_tree(self) -> Tree[int]:
        matches = self.query_one("#match-tree", Tree)
        return matches if matches.display else self.query_one("#clause-tree", Tree)

    # ----------------------------------------------------------------- actions
    def action_filter(self) -> None:
        """Type to filter the clauses."""
        self.query_one("#clause-filter", Input).focus()

    def action_clear_filter(self) -> None:
        """Clear the filter and show the whole tree."""
        box = self.query_one("#clause-filter", Input)
        if box.value:
            box.value = ""
        self.show_matches("")
        self.query_one("#clause-tree", Tree).focus()

    def action_reload(self) -> None:
        """Reload the regulations from the workspace."""
        self.reload()

    def action_import_file(self) -> None:
        """Import a regulation or its official text from a file."""
        if self._import is not None and self._import.is_running:
            self.notify("an import is already running (ctrl+x cancels it)", markup=False)
            return
        self.app.push_screen(FilePickerDialog(Path.cwd()), self._file_chosen)

    def _file_chosen(self, path: Path | None) -> None:
        if path is not None:
            self._import = self.read_and_plan(path, ImportDetails())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_import":  # only while reading: a commit runs to its end
            return (self._import is not None and not self._import.is_finished
                    and self._import.name == "read_and_plan")
        return True

    def action_cancel_import(self) -> None:
        """Stop the running import; nothing is written."""
        if self.check_action("cancel_import", ()):
            assert self._import is not None
            self._import.cancel()
            self.post_message(ImportStopped("import cancelled; nothing was written",
                                            failed=False))

    @work(thread=True, exclusive=True, exit_on_error=False, group="import",
          description="Reading the document")
    def read_and_plan(self, path: Path, details: ImportDetails,
                      doc: RegulationDoc | None = None) -> None:  # thread: post messages only
        from app.services.imports import complete_document, plan_import, read_document
        from app.services.mapping_import import (
            is_mapping_collection,
            plan_mapping_import,
            read_mapping_collection,
        )

        worker = get_current_worker()
        self.post_message(ImportProgress(f"reading {path.name}…", 0.05))
        given = {"code": details.code or None, "title": details.title or None,
                 "version": details.version or None}

        shown = [0.0]  # when progress was last posted: at most 20 a second reach the UI

        def page_done(done: int, pages: int) -> None:
            time.sleep(0)  # let the UI thread have the interpreter between pages
            if worker.is_cancelled:
                raise _Stopped
            now = time.monotonic()
            if now - shown[0] >= 0.05 or done == pages:
                shown[0] = now
                self.post_message(ImportProgress(f"page {done:,} of {pages:,} · reading "
                                                 f"{path.name}", 0.05 + 0.8 * done / pages))

        try:
            if doc is None and is_mapping_collection(path, None):  # mappings, not clauses
                self.post_message(MappingImportPlanned(plan_mapping_import(
                    self.store, read_mapping_collection(path), code=given["code"],
                    version=given["version"])))
                return
            if doc is None:
                doc = read_document(path, on_page=page_done, **given)
            else:
                doc = complete_document(doc, **given)
            if worker.is_cancelled:
                return
            self.post_message(ImportProgress("comparing with the workspace…", 0.9))
            plan = plan_import(self.store, doc)
        except _Stopped:
            return
        except DetailsNeeded as exc:
            if worker.is_cancelled:  # cancelled while the pages were parsed
                return
            self.post_message(ImportDetailsWanted(path, exc.missing,
                                                  exc.doc if isinstance(exc.doc, RegulationDoc)
                                                  else None))
            return
        except CrosswalkError as exc:
            if not worker.is_cancelled:
                self.post_message(ImportStopped(str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(ImportProgress("ready to commit", 1.0))
            self.post_message(ImportPlanned(plan))

    def on_import_progress(self, message: ImportProgress) -> None:
        status = self.query_one("#import-status")
        status.display = True
        hint = " [dim](ctrl+x cancels)[/]" if self.check_action("cancel_import", ()) else ""
        self.query_one("#import-phase", Static).update(f"{escape(message.phase)}{hint}")
        self.query_one("#import-progress", ProgressBar).update(progress=message.progress)
        self.refresh_bindings()

    def on_import_details_wanted(self, message: ImportDetailsWanted) -> None:
        self.query_one("#import-status").display = False
        doc = message.doc

        def answered(details: ImportDetails | None) -> None:
            if details is None:
                self.notify("import cancelled; nothing was written", markup=False)
                self.refresh_bindings()
            else:
                self._import = self.read_and_plan(message.path, details, doc)

        self.app.push_screen(ImportDetailsDialog(
            message.path.name, message.missing,
            title=doc.title if doc else "", version=doc.version_label if doc else ""),
            answered)

    def on_import_planned(self, message: ImportPlanned) -> None:
        self.query_one("#import-status").display = False
        plan = message.plan

        def decided(commit: bool | None) -> None:
            if commit:
                self._import = self.commit(plan)
            else:
                self.notify("import cancelled; nothing was written", markup=False)

        self.app.push_screen(ImportPlanDialog(plan), decided)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import",
          description="Importing the document")
    def commit(self, plan: object) -> None:  # thread: post messages only
        from app.services.imports import ImportPlan, commit_import

        assert isinstance(plan, ImportPlan)
        self.post_message(ImportProgress("writing to the workspace…", 0.5))
        try:
            regulation_id = commit_import(self.store, plan)
        except CrosswalkError as exc:
            self.post_message(ImportStopped(str(exc)))
            return
        doc = plan.doc
        self.post_message(ImportDone(regulation_id, f"{doc.code} {doc.version_label}: "
                                                    f"{plan.mode} from {doc.source_name}"))

    def on_mapping_import_planned(self, message: MappingImportPlanned) -> None:
        self.query_one("#import-status").display = False
        plan = message.plan

        def decided(commit: bool | None) -> None:
            if commit:
                self._import = self.commit_mappings(plan)
            else:
                self.notify("import cancelled; nothing was written", markup=False)

        self.app.push_screen(MappingImportDialog(plan), decided)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import",
          description="Importing the mappings")
    def commit_mappings(self, plan: object) -> None:  # thread: post messages only
        from app.services.mapping_import import MappingImportPlan, commit_mapping_import

        assert isinstance(plan, MappingImportPlan)
        self.post_message(ImportProgress("writing to the workspace…", 0.5))
        try:
            created = commit_mapping_import(self.store, plan)
        except CrosswalkError as exc:
            self.post_message(ImportStopped(str(exc)))
            return
        self.post_message(ImportDone(plan.regulation_id, f"{created:,} mappings to "
                                                         f"{plan.code} {plan.version_label} "
                                                         f"from {plan.doc.source_name}, as "
                                                         "drafts"))

    def on_import_done(self, message: ImportDone) -> None:
        self.query_one("#import-status").display = False
        self.notify(message.summary, title="Imported", markup=False)
        self.refresh_bindings()
        self.imported(message.regulation_id)

    def on_import_stopped(self, message: ImportStopped) -> None:
        self.query_one("#import-status").display = False
        self.refresh_bindings()
        self.notify(message.reason, title="Import failed" if message.failed else "Import",
                    severity="error" if message.failed else "information", markup=False)

    def action_link_evidence(self) -> None:
        """Choose a piece of evidence and link it to the highlighted clause."""
        clause_id = self._clause_id
        if clause_id is None:
            self.notify("choose a clause first", severity="warning", markup=False)
            return
        try:
            clause = get_clause(self.store, clause_id)
            linked = {r.id for r in clause_evidence(self.store, clause_id)}
        except CrosswalkError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        reg = next((r for r in self._regs if r.id == clause.regulation_id), None)
        if reg is None:
            return
        full_ref = f"{reg.code} {clause.ref}" if reg.latest else \
            f"{reg.code}@{reg.version_label} {clause.ref}"

        def chosen(evidence_id: int | None) -> None:
            if evidence_id is None:
                return
            from app.domain.evidence import evidence_label
            from app.services.evidence import link_evidence

            label = evidence_label(evidence_id)

            def job() -> tuple[str, int | None, list[str]]:
                link_evidence(self.store, evidence_id, clauses=[full_ref])
                return f"{label} linked to {full_ref}", evidence_id, []

            start_write(self, f"Linking {label} to {full_ref}", job, "Not linked")

        self.app.push_screen(EvidencePickerDialog(
            self.store, f"[b]Link evidence to {escape(full_ref)}[/] "
                        f"[dim]{escape(clause.title or '')}[/]", exclude=linked), chosen)

    def on_evidence_changed(self, message: EvidenceChanged) -> None:
        self.notify(message.summary, title=message.title, markup=False)
        if self._clause_id is not None:
            self.show_clause(self._clause_id)

    def on_evidence_failed(self, message: EvidenceFailed) -> None:
        self.notify(message.error, title=message.title, severity="error", markup=False)

    def action_diff(self) -> None:
        """Compare two versions of the selected regulation."""
        current = next((r for r in self._regs if r.id == self._loaded_for), None)
        if current is None:
            return
        versions = [r.version_label for r in self._regs if r.code == current.code]
        if len(versions) < 2:
            self.notify(f"{current.code} has only one version; import another to compare",
                        title="Nothing to compare", markup=False)
            return
        self.app.push_screen(DiffDialog(self.store, current.code, versions))

    def imported(self, regulation_id: int) -> None:
        """Called by the import flow after a commit: show what came in."""
        self._loaded_for = None
        self.reload()
        select = self.query_one("#reg-select", Select)
        if regulation_id in [r.id for r in self._regs]:
            select.value = regulation_id


def _row_label(row: ClauseRow, scope: tuple[ClauseRow, ScopeDecision] | None = None
               ) -> Text:
    """A tree line as `Text`: a ``str`` label would be read as Rich markup. A clause out of
    scope (declared not applicable, or inside one that is) is dimmed and says n/a."""
    name = row.title or row.summary
    label = Text.assemble((row.ref, "bold"), f" {name[:70]}" if name else "")
    if not row.assessable:
        label.append(" ").append("(not assessable)", "dim")
    if scope is not None:
        label.stylize("dim")
        label.append(" ").append("n/a", "bold italic")
    return label


def _scope_markup(row: ClauseRow | None, scope: tuple[ClauseRow, ScopeDecision] | None
                  ) -> str:
    if scope is None:
        return ""  # it applies: nothing to say (n declares it not applicable)
    at, d = scope
    via = "" if row is not None and at.id == row.id else f" as part of {escape(at.ref)}"
    return (f"[b]Applicability[/] [b $text-warning]not applicable[/]{via} [dim]· decided "
            f"{escape(d.decided_at[:10])} by {escape(d.decided_by)} (n changes it)[/]\n"
            f"  [i]{escape(d.justification)}[/]")


def _evidence_markup(rows: list[EvidenceRow]) -> str:
    if not rows:
        return "[b]Evidence[/] [dim]none linked — l links a piece of evidence[/]"
    lines = [f"[b]Evidence[/] ({len(rows)})"]
    lines += [f"  [b]{r.label}[/] {status_markup(r.status)} {escape(' '.join(r.title.split()))}"
              for r in rows[:20]]
    if len(rows) > 20:
        lines.append(f"  [dim]… and {len(rows) - 20:,} more[/]")
    return "\n".join(lines)


def _info_markup(r: RegulationInfo) -> str:
    ids = " · ".join(f"{k.upper()} {v}" for k, v in sorted(r.identifiers.items()))
    return (f"[b]{escape(r.short_title or r.title)}[/] [dim]{escape(r.code)} "
            f"{escape(r.version_label)}[/]\n"
            f"{r.clauses:,} clauses · {r.with_text:,} with text · {r.mappings} mappings\n"
            f"[dim]{escape(ids)}[/]")


def _clause_markup(c: Clause, maps: list[Mapping], above: list[tuple[str, Mapping]],
                   below: list[tuple[str, str, str]], scope: str = "") -> str:
    attrs = json.loads(c.attributes or "{}") if isinstance(c.attributes, str) else {}
    lines = [f"[b]{escape(c.ref)}[/]  [dim]{escape(c.kind)}"
             f"{'' if c.assessable else ', not assessable'}[/]"]
    if c.title:
        lines.append(f"[b]{escape(c.title)}[/]")
    if c.summary:
        lines.append(f"[i]{escape(c.summary)}[/]")
    for key, value in attrs.items():
        lines.append(f"[dim]{escape(key)}:[/] {escape(str(value))}")
    if scope:
        lines.append(scope)
    lines.append("")
    lines.append(escape(c.text) if c.text else
                 "[dim]No text yet — import the official document (i) to fill it in.[/]")
    lines.append("")
    lines.append(f"[b]Mappings[/] ({len(maps)})" if maps else "[b]Mappings[/] none on this "
                 "clause")
    for m in maps:
        flag = f"\n    [b $warning]! {escape(m.flag)}[/]" if m.flag else ""
        lines.append(f"  [b]{m.control_id}[/] {m.relationship} · strength {m.strength} · "
                     f"{m.coverage} · {m.review_status}{flag}\n    {escape(m.rationale)}")
    if above:
        lines.append(f"\n[b]Mappings on what encloses it[/] ({len(above)})")
        lines += [f"  {escape(ref)} → {m.control_id} [dim]{m.relationship}, {m.coverage}[/]"
                  for ref, m in above[:15]]
    if below:
        lines.append(f"\n[b]Mappings inside it[/] ({len(below)})")
        lines += [f"  {escape(ref)} → {control} [dim]{rel}[/]" for ref, control, rel in below[:30]]
        if len(below) > 30:
            lines.append(f"  … and {len(below) - 30} more")
    return "\n".join(lines)
