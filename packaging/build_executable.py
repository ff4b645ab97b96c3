"""Build Crosswalk as a self-contained executable for machines without Python (PyInstaller,
one-folder mode), and archive it with a SHA-256 sums file inside and `<archive>.sha256`
beside it.

    python packaging/build_executable.py            # -> dist/crosswalk-<v>-executable-….tar.gz

PyInstaller does not cross-compile: build on each system you ship to (Linux, macOS, Windows),
and on the oldest release of it you support, since the result needs that C library or newer.
The build runs in a throwaway virtual environment with PyInstaller and the Crosswalk wheel
(from pip's index or a local mirror); the checkout is not touched. Standard library only.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
from pathlib import Path

from _common import (
    ROOT,
    BuildError,
    build_wheel,
    main_guard,
    run,
    version,
    write_archive,
    write_sums,
)

HERE = Path(__file__).resolve().parent
PYINSTALLER = "pyinstaller==6.22.3"
# Imported by name at run time (TUI screens, Textual's widgets, Rich's tables), or files read
# through importlib.resources: PyInstaller's import analysis would miss them.
COLLECT = ["--collect-submodules", "app", "--collect-data", "app",
           "--collect-submodules", "textual", "--collect-submodules", "rich"]


def venv_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def build(out: Path) -> Path:
    ver = version()
    name = f"crosswalk-{ver}-executable-{platform.system().lower()}-{platform.machine().lower()}"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crosswalk-exe-") as scratch_name:
        scratch = Path(scratch_name)
        print(f"building the Crosswalk {ver} wheel …", file=sys.stderr)
        wheel = build_wheel(scratch / "wheel", scratch)
        print(f"installing {PYINSTALLER} and Crosswalk in a build environment …",
              file=sys.stderr)
        run([sys.executable, "-m", "venv", str(scratch / "env")], "creating the build venv")
        python = str(venv_python(scratch / "env"))
        run([python, "-m", "pip", "install", "--quiet", PYINSTALLER, str(wheel)],
            "installing PyInstaller and Crosswalk")
        print("freezing with PyInstaller …", file=sys.stderr)
        run([python, "-m", "PyInstaller", "--noconfirm", "--clean", "--onedir",
             "--name", "crosswalk", "--log-level", "WARN",
             "--distpath", str(scratch / "dist"), "--workpath", str(scratch / "work"),
             "--specpath", str(scratch), *COLLECT, str(HERE / "pyinstaller_entry.py")],
            "PyInstaller", cwd=scratch)
        folder = scratch / name
        (scratch / "dist" / "crosswalk").rename(folder)
        shutil.copyfile(HERE / "EXECUTABLE.txt", folder / "README.txt")
        exe = folder / ("crosswalk.exe" if sys.platform == "win32" else "crosswalk")
        probe = run([str(exe), "--version"], "running the built executable")
        if ver not in probe.stdout:
            raise BuildError(f"the built executable says {probe.stdout.strip()!r}, not {ver}")
        write_sums(folder)
        archive = write_archive(folder, out / f"{name}.tar.gz")
    return archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "dist",
                        help="folder for the archive and its .sha256 (default: dist/)")
    args = parser.parse_args()
    archive = build(args.out)
    print(archive)
    print(archive.with_name(archive.name + ".sha256"))
    return 0


if __name__ == "__main__":
    main_guard(main)
