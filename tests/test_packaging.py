"""The built wheel ships the bundled library and works without the checkout.

The wheel is built once per module with pip, from a copy of the checkout in a temp dir (a
fresh tree: an in-tree build would write `build/` and `*.egg-info` into the checkout, and a
stale `build/lib` could put files in the wheel that the sources no longer have). Building takes
a few seconds, more on a cold machine: the timeouts are generous. The unzipped wheel is then
imported in a subprocess whose `sys.path` holds only the standard library, the unzipped wheel
and the venv's site-packages for the dependencies (`-S`: the editable install's path hook is
not loaded), so nothing can come from the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CODES = ["GDPR", "EU-AI-ACT", "HIPAA"]  # the order of app.services.library.BUNDLED
REQUIRED = [
    "app/bundled/regulations/gdpr.yaml",
    "app/bundled/regulations/eu-ai-act.yaml",
    "app/bundled/regulations/hipaa.yaml",
    "app/bundled/regulations/catalog.schema.json",
    "app/bundled/mappings/gdpr.yaml",
    "app/bundled/mappings/eu-ai-act.yaml",
    "app/bundled/mappings/hipaa.yaml",
    "app/tui/app.tcss",
]
NOT_SHIPPED = (".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
               ".ruff_cache", ".ci-venv*", ".venv", "venv", "*.db", "*.db-wal", "*.db-shm",
               "tests", "bench")
# pip's words for "the build requirements could not be fetched" (no network, no local copy)
UNREACHABLE = ("No matching distribution found", "Could not find a version that satisfies",
               "NewConnectionError", "Temporary failure in name resolution",
               "Network is unreachable", "Failed to establish a new connection")
BUILD_TIMEOUT = 300


def _pip_wheel(source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", *extra, "-w", str(out),
         str(source)], capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT,
        check=False)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel: without build isolation if the venv's setuptools can, else isolated
    (pip fetches setuptools/wheel from its index or find-links); skip only when those build
    requirements cannot be had at all."""
    base = tmp_path_factory.mktemp("wheel")
    source, out = base / "src", base / "dist"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_SHIPPED))
    first = _pip_wheel(source, out, "--no-build-isolation")
    if first.returncode != 0:
        second = _pip_wheel(source, out)
        if second.returncode != 0:
            log = second.stdout + second.stderr
            if any(marker in log for marker in UNREACHABLE):
                pytest.skip("cannot build the wheel: the venv's setuptools/wheel are missing or "
                            "too old for --no-build-isolation, and pip cannot fetch them "
                            f"(no network, no cached copy): {log.strip().splitlines()[-1]}")
            pytest.fail(f"pip wheel failed:\n--no-build-isolation:\n{first.stderr[-2000:]}\n"
                        f"isolated:\n{log[-4000:]}")
    wheels = sorted(out.glob("crosswalk_workbench-*.whl"))
    assert len(wheels) == 1, [p.name for p in out.iterdir()]
    return wheels[0]


@pytest.fixture(scope="module")
def unpacked(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("installed") / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
    return target


def test_wheel_ships_the_bundled_library_and_the_stylesheet(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        missing = [n for n in REQUIRED if n not in names]
        assert missing == []
        mapping_files = sorted(n for n in names if n.startswith("app/bundled/mappings/")
                               and n.endswith(".yaml"))
        assert mapping_files == sorted(n for n in REQUIRED if "/mappings/" in n)
        source = wheel.parent.parent / "src"  # the copy it was built from (see `wheel`)
        for name in REQUIRED:  # the same bytes as the sources
            folder, _, file = name.removeprefix("app/bundled/").rpartition("/")
            src = source / "app" / "tui" / file if name.startswith("app/tui/") else \
                source / folder / file
            assert z.read(name) == src.read_bytes(), name
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/RECORD"))
        entry_points = z.read(f"{dist_info}/entry_points.txt").decode()
    assert "crosswalk = app.cli:main" in entry_points
    assert not any(n.startswith(("tests/", "bench/", "regulations/", "mappings/"))
                   for n in names), "only the app package belongs in the wheel"
    assert "app/services/library.py" in names and "app/importers/formex.py" in names


SCRIPT = r"""
import json, sys
checkout = sys.argv[1]
leaks = [p for p in sys.path if p == checkout or p.startswith(checkout + "/")]
from importlib.resources import files
from app.services.library import bundled, bundled_folder
from app.services.regulations import list_regulations
from app.services.workspace import open_workspace

items = bundled()
store = open_workspace(sys.argv[2], create=True, actor="packaging-test")
regs = list_regulations(store)
store.close()
print(json.dumps({
    "leaks": leaks,
    "regulations_folder": str(bundled_folder("regulations")),
    "mappings_folder": str(bundled_folder("mappings")),
    "codes": [b.doc.code for b in items],
    "mappings": {b.doc.code: len(b.mappings) for b in items},
    "tcss": files("app.tui").joinpath("app.tcss").is_file(),
    "modules": sorted({m.__file__ for n, m in sys.modules.items()
                       if (n == "app" or n.startswith("app.")) and getattr(m, "__file__", None)}),
    "workspace": [(r.code, r.version_label, r.clauses, r.mappings) for r in regs],
}))
"""


def _isolated_env(unpacked: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith("PYTHON") and k not in ("CROSSWALK_WORKSPACE",)}
    site = sysconfig.get_paths()["purelib"]
    return {**keep, "PYTHONPATH": os.pathsep.join([str(unpacked), site]),
            "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def test_the_unpacked_wheel_loads_the_library_without_the_checkout(unpacked: Path,
                                                                    tmp_path: Path) -> None:
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    p = subprocess.run(
        [sys.executable, "-S", "-P", "-c", SCRIPT, str(ROOT), str(cwd / "ws.db")],
        cwd=cwd, env=_isolated_env(unpacked), capture_output=True, text=True, timeout=120,
        check=False)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["leaks"] == []
    for key in ("regulations_folder", "mappings_folder"):
        assert Path(out[key]).is_relative_to(unpacked), out[key]
    assert Path(out["regulations_folder"]) == unpacked / "app" / "bundled" / "regulations"
    assert out["modules"] and all(Path(m).is_relative_to(unpacked) for m in out["modules"]), \
        [m for m in out["modules"] if not Path(m).is_relative_to(unpacked)]
    assert out["codes"] == CODES
    assert all(n > 50 for n in out["mappings"].values()), out["mappings"]
    assert out["tcss"] is True
    workspace = {code: (version, clauses, maps) for code, version, clauses, maps
                 in out["workspace"]}
    assert set(workspace) == set(CODES)
    assert workspace["GDPR"][0] == "2016-04-27" and workspace["GDPR"][1] > 1000
    assert {code: maps for code, (_, _, maps) in workspace.items()} == out["mappings"]


def test_the_unpacked_wheel_runs_the_cli(unpacked: Path, tmp_path: Path) -> None:
    ws = tmp_path / "cli.db"
    env = _isolated_env(unpacked)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-S", "-P", "-m", "app", "-w", str(ws), *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120, check=False)

    p = run("init")
    assert p.returncode == 0 and p.stdout == f"created workspace {ws}\n", p.stderr
    p = run("clause", "GDPR Art. 32(1)(b)", "--json")
    assert p.returncode == 0, p.stderr
    clause = json.loads(p.stdout)
    assert clause["full_ref"] == "GDPR Art. 32(1)(b)" and clause["mappings"]
