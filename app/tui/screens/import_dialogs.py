"""Dialogs of the Regulations screen: choose a file, confirm an import plan, diff versions."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    DataTable,
    DirectoryTree,
    Footer,
    Input,
    Label,
    Select,
    Static,
    Tree,
)
from textual.widgets.tree import TreeNode

from app.domain.clauses import ClauseNode
from app.services.imports import ImportPlan
from app.services.mapping_import import MappingImportPlan
from app.services.versions import VersionDiff, diff_versions
from app.store import Store
from app.tui.markup import escape
from app.tui.messages import DiffReady
from app.tui.widgets.plain_select import PlainSelect
from app.tui.widgets.plain_table import PlainTable


class FilePickerDialog(ModalScreen[Path | None]):
    """Browse to a file (or type its path); returns the path, or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="file-picker-cancel"),
    ]

    HEADING = ("[b]Import a document[/]  [dim]an official PDF, Formex XML, EUR-Lex XHTML, "
               "OSCAL catalog or mapping collection, CISO Assistant library, CSV or a "
               "Crosswalk catalog[/]")

    def __init__(self, start: Path, heading: str | None = None) -> None:
        super().__init__()
        self.start = start
        self.heading = heading or self.HEADING

    def compose(self) -> ComposeResult:
        with Vertical(id="file-picker", classes="dialog"):
            yield Static(self.heading)
            yield DirectoryTree(self.start, id="file-tree")
            yield Input(str(self.start), placeholder="path to a file", id="file-path")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Open  enter", variant="primary", id="open", compact=True)
                yield Button("Cancel  esc", id="cancel", compact=True)

    def on_mount(self) -> None:
        # the path is selected: typing or pasting one replaces it; shift+tab browses the tree
        self.query_one("#file-path", Input).focus()

    @on(DirectoryTree.FileSelected)
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        self.query_one("#file-path", Input).value = str(event.path)
        self._open()

    @on(Input.Submitted, "#file-path")
    @on(Button.Pressed, "#open")
    def _open(self) -> None:
        path = Path(self.query_one("#file-path", Input).value).expanduser()
        if not path.is_file():
            self.notify(f"{path} is not a file", severity="warning", markup=False)
            return
        self.dismiss(path)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without importing."""
        self.dismiss(None)


@dataclass(frozen=True, slots=True)
class ImportDetails:
    """What the user says about a document that does not say it itself."""

    code: str = ""
    title: str = ""
    version: str = ""


class ImportDetailsDialog(ModalScreen[ImportDetails | None]):
    """Ask for the code (a new regulation), title and version a document does not give."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "go_on", "Continue", id="details-continue", priority=True),
        Binding("escape", "cancel", "Cancel", id="details-cancel"),
    ]

    def __init__(self, name: str, missing: tuple[str, ...], title: str = "",
                 version: str = "") -> None:
        super().__init__()
        self.file_name = name
        self.missing = missing
        self.title_guess = title
        self.version_guess = version

    def compose(self) -> ComposeResult:
        with Vertical(id="import-details", classes="dialog"):
            yield Static(f"[b]What is {escape(self.file_name)}?[/]\n[dim]{_why(self.missing)}[/]\n")
            yield Label("Code of the regulation, e.g. ACME-AI-POLICY" +
                        (" (required)" if "code" in self.missing else " (optional)"))
            yield Input(placeholder="CODE", id="details-code")
            yield Label("Title")
            yield Input(self.title_guess[:200], placeholder="title", id="details-title")
            yield Label("Version, e.g. 2025 or 2025-01-15" +
                        (" (required)" if "version" in self.missing else ""))
            yield Input(self.version_guess, placeholder="version", id="details-version")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Continue  ctrl+s", variant="primary", id="go-on", compact=True)
                yield Button("Cancel  esc", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#details-code", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#go-on")
    def action_go_on(self) -> None:
        """Go on with the import, with these details."""
        from app.domain.refs import validate_code

        code = self.query_one("#details-code", Input).value.strip().upper()
        version = self.query_one("#details-version", Input).value.strip()
        try:
            if code or "code" in self.missing:
                code = validate_code(code)
        except ValueError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            self.query_one("#details-code", Input).focus()
            return
        if "version" in self.missing and not version:
            self.notify("give the version of the document", severity="warning", markup=False)
            self.query_one("#details-version", Input).focus()
            return
        self.dismiss(ImportDetails(code, self.query_one("#details-title", Input).value.strip(),
                                   version))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Give up this import; nothing is written."""
        self.dismiss(None)


def _why(missing: tuple[str, ...]) -> str:
    if missing == ("code",):
        return ("No regulation in this workspace has this document's identifiers: give it a "
                "code to import it as a new regulation.")
    if missing == ("version",):
        return "The document does not say which version it is."
    return "The document does not say which regulation or version it is."


GROUP_AT = 20  # this many top-level clauses of one kind in a row are shown in one folder


class ImportPlanDialog(ModalScreen[bool]):
    """A preview of the import before anything is written: what it will do, the clause tree
    it found (each clause with its text and page), and the text no clause took. Returns True
    to commit."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "commit", "Commit", id="import-commit", priority=True),
        Binding("escape", "cancel", "Cancel", id="import-cancel"),
        Binding("u", "unplaced", "Unplaced text", id="import-unplaced",
                tooltip="Show the text of the document that no clause took"),
    ]

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__()
        self.plan = plan
        self._by_id: dict[int, ClauseNode] = {}
        self._groups: dict[int, list[ClauseNode]] = {}  # "173 recitals" folders
        self._lists: dict[int, list[tuple[Text, str, list[str]]]] = {}  # unplaced, refs
        self._texts: dict[int, tuple[str, list[str]]] = {}  # their rows: heading, lines

    def compose(self) -> ComposeResult:
        with Vertical(id="import-plan", classes="dialog"):
            with VerticalScroll(id="plan-scroll"):
                yield Static(plan_markup(self.plan), id="plan-text")
            with Horizontal(id="preview-split"):
                tree: Tree[int] = Tree("clauses", id="preview-tree")
                tree.show_root = False
                yield tree
                with VerticalScroll(id="preview-detail"):
                    yield Static("[dim]Choose a clause to read its text and page.[/]",
                                 id="preview-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Unplaced text  u", id="unplaced", compact=True)
                yield Button("Commit  ctrl+s", variant="primary", id="commit", compact=True)
                yield Button("Cancel  esc", id="cancel", compact=True)
        yield Footer()  # this dialog's keys, not the screen's below

    def on_mount(self) -> None:
        tree = self.query_one("#preview-tree", Tree)
        for kind, run in groupby(self.plan.doc.clauses, key=lambda n: n.kind):
            nodes = list(run)
            if len(nodes) < GROUP_AT:
                for node in nodes:
                    self._add(tree.root, node)
                continue
            self._groups[id(nodes)] = nodes  # a long run of recitals gets one folder
            tree.root.add(Text.assemble((f"{len(nodes)} {kind}s", "bold"), " ",
                                        (f"{nodes[0].ref} – {nodes[-1].ref}", "dim")),
                          data=id(nodes), allow_expand=True)
        self._add_lists(tree)
        if tree.root.children:
            tree.move_cursor_to_line(0)
        tree.focus()

    def _add_lists(self, tree: Tree[int]) -> None:
        """Folders after the clauses: the text no clause took, page by page, and in a fill
        the refs that did not match either way. Their rows are added when opened."""
        pages: dict[int, list[str]] = {}
        for page, text in self.plan.doc.unplaced:
            pages.setdefault(page, []).append(text)
        rows = [(Text.assemble(f"p. {page}  ", (_lines(len(lines)), "dim")),
                 f"Text no clause took, page {page}", lines)
                for page, lines in sorted(pages.items())]
        self._unplaced = self._folder(tree, f"text no clause took "
                                            f"({_lines(len(self.plan.doc.unplaced))})", rows)
        if (fill := self.plan.fill) is not None:
            self._folder(tree, f"refs of the document not in the workspace ({len(fill.unplaced)})",
                         [(Text(r), "Not in the workspace: its text is not imported", [r])
                          for r in fill.unplaced])
            self._folder(tree, f"clauses of the workspace it gives no text ({len(fill.missing)})",
                         [(Text(r), "The document gives no text for this clause", [r])
                          for r in fill.missing])

    def _folder(self, tree: Tree[int], label: str,
                rows: list[tuple[Text, str, list[str]]]) -> TreeNode[int]:
        self._lists[id(rows)] = rows
        return tree.root.add(Text(label, "bold"), data=id(rows),
                             allow_expand=bool(rows))

    def _add(self, parent: TreeNode[int], node: ClauseNode) -> None:
        self._by_id[id(node)] = node
        # `Text`, not markup: a str label would be read as Rich markup
        label = Text.assemble((node.ref, "bold"), " ", node.title[:48] if node.title
                              else (node.text[:48], "dim"))
        if node.children:
            parent.add(label, data=id(node), allow_expand=True)
        else:
            parent.add_leaf(label, data=id(node))

    @on(Tree.NodeExpanded, "#preview-tree")
    def _expand(self, event: Tree.NodeExpanded[int]) -> None:
        self._fill(event.node)

    def _fill(self, folder: TreeNode[int]) -> None:
        """Add a folder's rows, once."""
        key = folder.data or 0
        if folder.children:
            return
        if key in self._lists:
            for label, heading, lines in self._lists[key]:
                self._texts[id(lines)] = (heading, lines)
                folder.add_leaf(label, data=id(lines))
            return
        node = self._by_id.get(key)
        for child in node.children if node is not None else self._groups.get(key, []):
            self._add(folder, child)

    @on(Tree.NodeHighlighted, "#preview-tree")
    def _show(self, event: Tree.NodeHighlighted[int]) -> None:
        node = self._by_id.get(event.node.data or 0)
        if (listed := self._texts.get(event.node.data or 0)) is not None:
            heading, lines = listed
            self.query_one("#preview-text", Static).update(
                f"[b]{escape(heading)}[/]\n\n" + "\n".join(escape(t) for t in lines))
            return
        if node is None:
            return
        page = f", page {node.page}" if node.page else ""
        attrs = "".join(f"\n[dim]{escape(k)}:[/] {escape(v)}" for k, v in node.attributes.items())
        title = f"\n{escape(node.title)}" if node.title else ""
        self.query_one("#preview-text", Static).update(
            f"[b]{escape(node.ref)}[/] [dim]{escape(node.kind)}{page}[/]{title}{attrs}\n\n"
            f"{escape(node.text) if node.text else '[dim]no text of its own[/]'}")

    @on(Button.Pressed, "#unplaced")
    def action_unplaced(self) -> None:
        """Open the text no clause took, page by page."""
        tree = self.query_one("#preview-tree", Tree)
        self._fill(self._unplaced)
        self._unplaced.expand()
        tree.call_after_refresh(tree.move_cursor, self._unplaced.children[0]
                                if self._unplaced.children else self._unplaced)
        tree.focus()

    @on(Button.Pressed, "#commit")
    def action_commit(self) -> None:
        """Write the import to the workspace."""
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without writing anything."""
        self.dismiss(False)


class MappingImportDialog(ModalScreen[bool]):
    """The preview of an OSCAL mapping collection's import: what it will create (as drafts),
    what it skips and every normalisation it made. Returns True to commit."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "commit", "Commit", id="mapping-import-commit", priority=True),
        Binding("escape", "cancel", "Cancel", id="mapping-import-cancel"),
    ]

    def __init__(self, plan: MappingImportPlan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        p = self.plan
        lines = [f"[b]{escape(p.headline)}[/]", f"[dim]{escape(p.doc.title[:200])}[/]", "",
                 f"[b]To create[/] ({len(p.create):,}, as drafts)"]
        lines += [f"{escape(s.ref)} → {s.control_id}  [dim]{s.relationship}, {s.coverage}, "
                  f"strength {s.strength}[/]" for _, s in p.create]
        lines += ["", "Nothing is written until you commit; the import is one audited "
                      "transaction.", ""]
        lines += [escape(line).replace("warning:", "[b $warning]warning:[/]", 1)
                  for line in p.details()]  # the skipped pairs and every normalisation
        with Vertical(id="mapping-import", classes="dialog"):
            with VerticalScroll():
                yield Static("\n".join(lines))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Commit  ctrl+s", variant="primary", id="commit", compact=True)
                yield Button("Cancel  esc", id="cancel", compact=True)
        yield Footer()

    @on(Button.Pressed, "#commit")
    def action_commit(self) -> None:
        """Write the mappings to the workspace."""
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without writing anything."""
        self.dismiss(False)


def _lines(n: int) -> str:
    return f"{n} line" if n == 1 else f"{n} lines"


def plan_markup(plan: ImportPlan) -> str:
    lines = [f"[b]{escape(plan.headline)}[/]", f"[dim]{escape(plan.doc.title[:200])}[/]", ""]
    for line in plan.details(shown=0, listed="listed below the clauses"):
        lines.append(escape(line).replace("warning:", "[b $warning]warning:[/]", 1))
    lines += ["", "Nothing is written until you commit; the import is one audited "
                  "transaction."]
    return "\n".join(lines)


class DiffDialog(ModalScreen[None]):
    """Two versions of a regulation side by side: what was added, removed and changed, and
    the mappings that hang on the changes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="diff-close"),
    ]

    def __init__(self, store: Store, code: str, versions: list[str]) -> None:
        super().__init__()
        self.store = store
        self.code = code
        self.versions = versions

    def compose(self) -> ComposeResult:
        options = [(v, v) for v in self.versions]
        with Vertical(id="diff-dialog", classes="dialog"):
            yield Static(f"[b]Compare versions of {escape(self.code)}[/]")
            with Horizontal(id="diff-pick"):
                yield Label("from")
                yield PlainSelect(options, value=self.versions[-2], allow_blank=False,
                             id="diff-old", compact=True)
                yield Label("to")
                yield PlainSelect(options, value=self.versions[-1], allow_blank=False,
                             id="diff-new", compact=True)
            yield Static(id="diff-summary")
            yield PlainTable(id="diff-table", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one("#diff-table", DataTable)
        table.add_columns("", "Ref", "What")
        self._compare()

    @on(Select.Changed)
    def _compare(self) -> None:
        old = self.query_one("#diff-old", Select).value
        new = self.query_one("#diff-new", Select).value
        if isinstance(old, str) and isinstance(new, str):
            self.compute(old, new)

    @work(thread=True, exclusive=True, exit_on_error=False, group="diff",
          description="Comparing versions")
    def compute(self, old: str, new: str) -> None:  # thread: post messages only
        self.post_message(DiffReady(diff_versions(self.store, self.code, old, new)))

    def on_diff_ready(self, message: DiffReady) -> None:
        d: VersionDiff = message.diff
        self.query_one("#diff-summary", Static).update(
            f"{escape(d.old_version)} → {escape(d.new_version)}: {escape(d.summary)}")
        table = self.query_one("#diff-table", DataTable)
        table.clear()
        for ref in d.added:
            table.add_row("+", ref, "added")
        for ref in d.removed:
            table.add_row("−", ref, "removed")
        for ch in d.changed:
            table.add_row("~", ch.ref, f"{ch.what} changed")
        for m in d.mappings:
            table.add_row("!", m.ref, f"mapping to {m.control_id} ({m.relationship}) hangs "
                                      f"on a {m.because} clause")

    def on_worker_state_changed(self, event: object) -> None:
        self.app.on_worker_state_changed(event)  # type: ignore[attr-defined,arg-type]

    def action_close(self) -> None:
        """Close the comparison."""
        self.dismiss(None)
