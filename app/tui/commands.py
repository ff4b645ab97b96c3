"""Command palette: every section, and every described key binding of the current screen."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from app.tui.sections import SECTIONS


class CrosswalkCommands(Provider):
    """Lists "Go to …" for each section and each action bound on the screen it was opened on,
    so the palette and the keys never drift apart."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app
        out: list[tuple[str, str, Callable[[], object]]] = [
            (f"Go to {s.title}", s.description, partial(app.switch_mode, s.id))
            for s in SECTIONS
        ]
        # the app's system commands already offer these; gotos are listed above
        seen = {"quit", "command_palette", *(f"goto('{s.id}')" for s in SECTIONS)}
        for active in self.screen.active_bindings.values():
            b = active.binding
            # the screen's and the app's own actions, not the focused widget's cursor keys
            mine = active.node is self.screen or active.node is app
            if (not mine or not b.description or not active.enabled
                    or b.action.removeprefix("app.") in seen):
                continue
            seen.add(b.action.removeprefix("app."))
            key = b.key_display or app.get_key_display(b)
            out.append((b.description, b.tooltip or f"key: {key}",
                        partial(app.run_action, b.action, active.node)))
        return out

    async def discover(self) -> Hits:
        for name, help_text, run in self._commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, run in self._commands():
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), run, text=name, help=help_text)
