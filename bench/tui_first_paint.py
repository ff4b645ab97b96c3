"""Child process of `bench/run.py`: open a workspace and the TUI, print when the first screen
(the Dashboard with its counts and controls) has been painted, then exit.

    python bench/tui_first_paint.py WORKSPACE
"""

from __future__ import annotations

import asyncio
import sys
import time


async def main(path: str) -> None:
    from app.services.workspace import open_workspace
    from app.tui.app import make_app
    from app.tui.screens.dashboard import DashboardScreen

    store = open_workspace(path)
    app = make_app(store)
    async with app.run_test(size=(120, 36)) as pilot:
        while not isinstance(app.screen, DashboardScreen) or not app.screen.query(
                "#dash-controls").first().row_count:
            await pilot.pause(0.005)
        app.screen.refresh()
        await pilot.pause()
        print(f"painted {time.perf_counter():.6f}", flush=True)
        app.exit()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
