"""The audit chain's state, verified in a thread worker with progress and cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static
from textual.worker import Worker, get_current_worker

from app.services.audit import verify
from app.tui.markup import escape
from app.tui.messages import VerifyFailed, VerifyFinished, VerifyProgress

if TYPE_CHECKING:
    from app.services.audit import VerifyReport
    from app.store import Store


class VerifyCancelled(Exception):
    """Raised from the progress callback when the user cancels."""


class ChainStatus(Vertical):
    """Shows "intact: N events, head …" or the first problem found; `verify()` re-runs."""

    DEFAULT_CSS = """
    ChainStatus {
        height: auto;
        padding: 0 1;
        border: round $foreground 30%;
        border-title-color: $text-muted;
    }
    ChainStatus > #chain-text { height: auto; }
    ChainStatus > ProgressBar { display: none; }
    ChainStatus.-running > ProgressBar { display: block; }
    ChainStatus.-intact { border: round $success; }
    ChainStatus.-broken { border: round $error; }
    """

    def __init__(self, store: Store, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.store = store
        self.border_title = "Audit chain"
        self.report: VerifyReport | None = None
        self._worker: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        yield Static("not verified yet — press v", id="chain-text")
        yield ProgressBar(total=1.0, show_eta=False, show_percentage=True)

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.is_running

    def verify(self) -> None:
        """Start a verification (no-op while one is running)."""
        if self.running:
            return
        self.set_class(True, "-running")
        self.screen.refresh_bindings()
        self.query_one(ProgressBar).update(progress=0)
        self.query_one("#chain-text", Static).update("verifying the audit chain… (esc cancels)")
        self._worker = self.app.run_worker(
            self._verify, thread=True, exclusive=False, exit_on_error=False,
            group="verify", description="Verifying the audit chain",
        )

    def cancel(self) -> bool:
        if self.running and self._worker is not None:
            self._worker.cancel()
            self.set_class(False, "-running")
            self.screen.refresh_bindings()
            self.query_one("#chain-text", Static).update("verification cancelled — press v")
            return True
        return False

    def _verify(self) -> None:  # runs in a thread: post messages only
        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            if worker.is_cancelled:
                raise VerifyCancelled
            self.post_message(VerifyProgress(done, total))

        try:
            report = verify(self.store, on_progress=progress)
        except VerifyCancelled:
            return
        except Exception as exc:
            self.post_message(VerifyFailed(str(exc)))
            raise  # the app turns the worker's failure into an error dialog
        if not worker.is_cancelled:
            self.post_message(VerifyFinished(report))

    def on_verify_progress(self, message: VerifyProgress) -> None:
        if message.total:
            self.query_one(ProgressBar).update(progress=message.done / message.total)

    def on_verify_failed(self, message: VerifyFailed) -> None:
        self.report = None
        self.set_class(False, "-running")
        self.screen.refresh_bindings()
        self.set_class(False, "-intact")
        self.set_class(True, "-broken")
        self.query_one("#chain-text", Static).update(
            f"[b $error]could not verify[/]: {escape(message.error)}")

    def on_verify_finished(self, message: VerifyFinished) -> None:
        self.report = r = message.report
        self.set_class(False, "-running")
        self.screen.refresh_bindings()
        self.set_class(r.intact, "-intact")
        self.set_class(not r.intact, "-broken")
        text = self.query_one("#chain-text", Static)
        if r.intact:
            files = f", {r.files_checked:,} evidence files" if r.files_checked else ""
            text.update(f"[b $success]intact[/]: {r.events:,} events, {r.rows_checked:,} rows"
                        f"{files} checked\nhead [dim]{r.head}[/]")
        else:
            more = f" (+{len(r.problems) - 1} more)" if len(r.problems) > 1 else ""
            text.update(f"[b $error]BROKEN[/]: {escape(r.problems[0].message)}{more}")
