"""Project-wide promises: layering, lazy imports, lint, pins."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ("app.domain", "app.store", "app.services", "app.importers", "app.exporters")


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=False)


def test_core_imports_without_textual() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {CORE!r}:\n"
        "    pkg = importlib.import_module(name)\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, name + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(len([m for m in sys.modules if m.startswith('app.')]), bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    p = run_python(code)
    assert p.returncode == 0, p.stdout + p.stderr
    assert int(p.stdout.split()[0]) >= 15  # the core modules were really imported


def test_cli_module_is_lazy() -> None:
    """`crosswalk --help` must not pay for SQLModel, Textual or the services."""
    p = run_python("import sys, app.cli\n"
                   "heavy = [m for m in ('sqlmodel', 'sqlalchemy', 'textual', 'app.services')"
                   " if m in sys.modules]\n"
                   "print(heavy); sys.exit(1 if heavy else 0)")
    assert p.returncode == 0, p.stdout + p.stderr


def test_tui_is_not_imported_by_core_modules() -> None:
    offenders = []
    for path in (ROOT / "app").rglob("*.py"):
        rel = path.relative_to(ROOT / "app")
        if rel.parts[0] in ("tui",) or rel.name == "cli.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "app.tui" in text or "import textual" in text or "from textual" in text:
            offenders.append(str(rel))
    assert offenders == []


def test_ruff_is_clean() -> None:
    p = subprocess.run([sys.executable, "-m", "ruff", "check", "app", "tests", "bench"],
                       capture_output=True, text=True, cwd=ROOT, check=False)
    assert p.returncode == 0, p.stdout + p.stderr


def test_textual_is_pinned_exactly_and_others_bounded() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    textual = [d for d in deps if d.startswith("textual")]
    assert textual and "==" in textual[0]
    for dep in deps:
        assert "==" in dep or ("<" in dep and ">=" in dep), dep


def test_python_dash_m_app_runs() -> None:
    p = subprocess.run([sys.executable, "-m", "app", "--version"], capture_output=True,
                       text=True, cwd=ROOT, check=False)
    assert p.returncode == 0 and p.stdout.startswith("crosswalk, version "), p.stderr


def test_catalog_json_schema_is_current() -> None:
    """regulations/catalog.schema.json is generated from the pydantic models; regenerate with
    `python -c "import json; from app.importers.catalog import json_schema; …"` (see README)."""
    import json

    from app.importers.catalog import json_schema

    on_disk = json.loads((ROOT / "regulations" / "catalog.schema.json").read_text())
    assert on_disk == json_schema()


def test_every_app_package_is_listed_for_the_wheel() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                 ["packages"])
    found = {".".join(p.relative_to(ROOT).parts[:-1]) for p in (ROOT / "app").rglob(
        "__init__.py")}
    assert found <= listed, found - listed
    assert {"app.bundled.regulations", "app.bundled.mappings"} <= listed
