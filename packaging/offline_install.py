#!/usr/bin/env python3
"""Install Crosswalk from this offline bundle: no network and no package index needed.

    python3 install.py                        # check the bundle, install, put crosswalk on PATH
    python3 install.py --check                # only check the bundle against SHA256SUMS
    python3 install.py --prefix DIR --bin-dir DIR
    python3 install.py --replace              # replace an earlier install from a bundle

It checks every file against SHA256SUMS, checks that this Python is the one the bundle was
built for, creates a virtual environment, installs the wheels in wheels/ with
`pip install --no-index --find-links wheels --require-hashes`, checks that `crosswalk` runs,
and links it into the bin folder. If anything fails, nothing is left behind (an install being
replaced is put back). Exit status 0 on success, 2 with one message on any problem.
Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import venv
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUMS = "SHA256SUMS"
MARKER = "crosswalk-install.json"
SUM_LINE = re.compile(r"^(?P<hash>[0-9a-f]{64}) [ *](?P<name>.+)$")
FORMAT = "crosswalk-offline-bundle/1"


class Refused(Exception):
    """The install cannot go on; the message says why, in one sentence or a short list."""


def say(message: str) -> None:
    print(message, flush=True)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def safe_name(name: str) -> bool:
    """A relative path inside the bundle: no drive, root, backslash, `..` or empty part."""
    if not name or "\\" in name or ":" in name or name.startswith("/"):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def check_bundle(root: Path) -> dict[str, object]:
    """Every file listed in SHA256SUMS is there with its hash, and nothing else is; then
    bundle.json is read. Raise Refused naming every problem."""
    sums = root / SUMS
    if not sums.is_file():
        raise Refused(f"{SUMS} is missing from {root}: unpack the whole archive again")
    problems: list[str] = []
    listed: dict[str, str] = {}
    try:
        text = sums.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(f"{SUMS} cannot be read ({exc})") from None
    for number, line in enumerate(text.splitlines(), 1):
        match = SUM_LINE.match(line)
        if not match:
            problems.append(f"{SUMS} line {number} is not '<sha256>  <file>'")
            continue
        name = match["name"]
        if not safe_name(name):
            problems.append(f"{SUMS} line {number} names {name!r}, a path outside the bundle")
        elif name in listed:
            problems.append(f"{SUMS} line {number} lists {name} a second time")
        else:
            listed[name] = match["hash"]
    for name, expected in listed.items():
        path = root / name
        if path.is_symlink() or (path.exists() and not path.is_file()):
            problems.append(f"{name} is not a plain file")
        elif not path.is_file():
            problems.append(f"{name} is missing")
        elif sha256(path) != expected:
            problems.append(f"{name} does not match its SHA-256 in {SUMS} (damaged or altered)")
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if (path.is_dir() and not path.is_symlink()) or name == SUMS:
            continue
        if name not in listed:
            problems.append(f"{name} is not listed in {SUMS} (added after the bundle was built)")
    if problems:
        shown = problems[:20] + ([f"… and {len(problems) - 20} more"] if problems[20:] else [])
        raise Refused("the bundle is not intact:\n  " + "\n  ".join(shown))
    try:
        manifest = json.loads((root / "bundle.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Refused(f"bundle.json cannot be read ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise Refused(f"bundle.json is not a Crosswalk offline bundle ({FORMAT})")
    return manifest


def check_python(manifest: dict[str, object]) -> None:
    """This interpreter is the Python and platform the wheels were fetched for."""
    tgt = manifest.get("target")
    if not isinstance(tgt, dict):
        raise Refused("bundle.json has no target")
    here_py = f"{sys.version_info.major}.{sys.version_info.minor}"
    here = (platform.system().lower(), platform.machine().lower())
    wanted = (str(tgt.get("system")), str(tgt.get("machine")))
    if sys.implementation.name != "cpython" or here_py != tgt.get("python"):
        raise Refused(f"this bundle is for CPython {tgt.get('python')}, but this is "
                      f"{sys.implementation.name} {here_py} ({sys.executable}); run the "
                      f"installer with python{tgt.get('python')}, or build a bundle for "
                      f"{here_py}")
    if here != wanted and not (here[0] == "darwin" and wanted == ("darwin", "universal2")):
        raise Refused(f"this bundle is for {' '.join(wanted)}, but this machine is "
                      f"{' '.join(here)}; build a bundle for it")
    needed = tgt.get("glibc")
    if needed and here[0] == "linux":
        lib, found = platform.libc_ver()
        have = tuple(int(x) for x in re.findall(r"\d+", found)[:2])
        want = tuple(int(x) for x in str(needed).split("."))
        if lib != "glibc" or have < want:
            raise Refused(f"this bundle's wheels need glibc {needed} or newer, but this "
                          f"machine has {lib or 'another C library'} {found}; build a bundle "
                          "with --platform manylinux tags for an older glibc (see INSTALL.txt)")


def default_prefix() -> Path:
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "Programs" / "Crosswalk"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "crosswalk-app"


def default_bin_dir() -> Path | None:
    return None if os.name == "nt" else Path.home() / ".local" / "bin"


def venv_file(prefix: Path, name: str) -> Path:
    if os.name == "nt":
        return prefix / "Scripts" / f"{name}.exe"
    return prefix / "bin" / name


def _blocking_file(folder: Path) -> Path | None:
    """The first of `folder` and its parents that exists but is not a folder, if any."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def check_target(root: Path, prefix: Path, link: Path | None, replace: bool) -> None:
    """Refuse before writing anything: a prefix inside the bundle or under a file, an
    existing folder we did not make, an install without --replace, a bin folder that is a
    file, or a `crosswalk` in it that is not ours."""
    if prefix.resolve() == root.resolve() or root.resolve() in prefix.resolve().parents:
        raise Refused(f"{prefix} is inside the bundle folder; choose a --prefix outside it")
    for folder, option in ((prefix.parent, "--prefix"),
                           (link.parent if link is not None else None, "--bin-dir")):
        blocker = _blocking_file(folder) if folder is not None else None
        if blocker is not None:
            raise Refused(f"{blocker} is a file, not a folder; choose another {option}")
    if prefix.exists() or prefix.is_symlink():
        if not (prefix / MARKER).is_file():
            raise Refused(f"{prefix} already exists and is not a Crosswalk install; choose "
                          "another --prefix")
        if not replace:
            raise Refused(f"Crosswalk is already installed in {prefix}; pass --replace to "
                          "replace it (the old install is put back if the new one fails)")
    if link is not None and (link.exists() or link.is_symlink()):
        ours = link.is_symlink() and link.readlink() == venv_file(prefix, "crosswalk")
        if not ours:
            raise Refused(f"{link} already exists and is not a link to this install; remove "
                          "it, or pass --bin-dir with another folder, or --no-link")


def pip_env() -> dict[str, str]:
    """No pip configuration from this machine (an index, find-links or constraints would
    change what gets installed): only the bundle's wheels count."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_INPUT="1")
    return env


def create(prefix: Path, root: Path, manifest: dict[str, object]) -> None:
    """Make the venv, install the wheels, check that crosswalk runs, leave the marker."""
    say(f"creating a virtual environment in {prefix} …")
    try:
        venv.EnvBuilder(with_pip=True, symlinks=os.name != "nt").create(prefix)
    except (OSError, subprocess.CalledProcessError) as exc:
        raise Refused(f"cannot create a virtual environment in {prefix} ({exc}); on Debian "
                      "or Ubuntu, install the python3-venv package from the OS media") from None
    python = venv_file(prefix, "python")
    wheels = manifest.get("wheels") or []
    say(f"installing {len(wheels)} wheels from {root / 'wheels'} (no index) …")
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-index", "--find-links",
         str(root / "wheels"), "--require-hashes", "--only-binary=:all:", "--no-cache-dir",
         "--quiet", "-r", str(root / "requirements.txt")],
        capture_output=True, text=True, env=pip_env(), check=False)
    if done.returncode != 0:
        tail = "\n  ".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise Refused(f"pip could not install the bundle's wheels:\n  {tail}")
    probe = subprocess.run([str(venv_file(prefix, "crosswalk")), "--version"],
                           capture_output=True, text=True, check=False)
    expected = str(manifest.get("crosswalk"))
    if probe.returncode != 0 or expected not in probe.stdout:
        raise Refused(f"the installed crosswalk did not start: {probe.stderr.strip()[-300:]}")
    now = datetime.now(timezone.utc)  # noqa: UP017 (datetime.UTC is 3.11+; this runs on any)
    record = {"crosswalk": expected, "bundle": root.name,
              "installed_at": now.isoformat(timespec="seconds"),
              "python": sys.executable}
    (prefix / MARKER).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


class Interrupted(BaseException):
    """SIGTERM or SIGHUP (a closed terminal) during the install: undo, then stop."""


def _interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(signal.Signals(signum).name)


def recover_leftover(prefix: Path) -> None:
    """An install killed mid-`--replace` (SIGKILL, a power cut) leaves the earlier install
    in `.NAME-old-*` beside a half-built prefix: put it back, or drop it if the new one
    was finished."""
    if not prefix.parent.is_dir():
        return
    for old in sorted(prefix.parent.glob(f".{prefix.name}-old-*")):
        if not (old / MARKER).is_file():
            continue
        if (prefix / MARKER).is_file():
            shutil.rmtree(old, ignore_errors=True)
            continue
        if prefix.exists() and not (prefix / "pyvenv.cfg").is_file():
            continue  # not a half-built venv of ours: leave both alone
        shutil.rmtree(prefix, ignore_errors=True)
        old.rename(prefix)
        say(f"put back the earlier install in {prefix}, left by an interrupted --replace")


def install(root: Path, prefix: Path, link: Path | None, replace: bool) -> None:
    manifest = check_bundle(root)
    check_python(manifest)
    recover_leftover(prefix)
    check_target(root, prefix, link, replace)
    for signum in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)):
        if signum is not None:
            signal.signal(signum, _interrupted)
    wanted = [prefix.parent] + ([link.parent] if link is not None else [])
    made = sorted({p for f in wanted for p in (f, *f.parents) if not p.exists()},
                  key=lambda p: len(p.parts), reverse=True)  # innermost first
    old: Path | None = None
    if prefix.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{prefix.name}-old-", dir=prefix.parent))
        old.rmdir()
        prefix.rename(old)
    try:
        prefix.parent.mkdir(parents=True, exist_ok=True)
        create(prefix, root, manifest)
        if link is not None:
            link.parent.mkdir(parents=True, exist_ok=True)
            tmp = link.with_name(f".{link.name}.{os.getpid()}")
            try:
                tmp.unlink(missing_ok=True)
                tmp.symlink_to(venv_file(prefix, "crosswalk"))
                tmp.replace(link)
            except OSError as exc:
                raise Refused(f"cannot link {link} ({exc}); pass --no-link and add "
                              f"{venv_file(prefix, 'crosswalk').parent} to PATH") from None
    except BaseException:
        shutil.rmtree(prefix, ignore_errors=True)
        if old is not None:
            old.rename(prefix)
        for folder in made:  # the folders it created, innermost first, if still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    say(f"installed Crosswalk {manifest.get('crosswalk')} in {prefix}")
    command = venv_file(prefix, "crosswalk")
    if link is None:
        folder = command.parent
        if os.name == "nt":
            say(f"to run it, add {folder} to your PATH (Settings > Environment variables), "
                f"or run {command}")
        else:
            say(f"to run it: {command}, or add {folder} to your PATH")
        return
    say(f"linked {link} -> {command}")
    on_path = any(Path(p).resolve() == link.parent.resolve()
                  for p in os.environ.get("PATH", "").split(os.pathsep) if p)
    if on_path:
        say("run: crosswalk")
    else:
        say(f"{link.parent} is not on your PATH; add it (e.g. in ~/.profile):\n"
            f'  export PATH={shlex.quote(str(link.parent))}:"$PATH"\nthen run: crosswalk')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Install Crosswalk from this offline bundle (no network needed).")
    parser.add_argument("--prefix", type=Path, default=None,
                        help=f"where the virtual environment goes (default: {default_prefix()})")
    parser.add_argument("--bin-dir", type=Path, default=None,
                        help="folder on PATH for the crosswalk link (default: "
                             f"{default_bin_dir() or 'none on Windows'})")
    parser.add_argument("--no-link", action="store_true", help="do not link crosswalk")
    parser.add_argument("--replace", action="store_true",
                        help="replace an earlier Crosswalk install in the prefix")
    parser.add_argument("--check", action="store_true", help="only check the bundle")
    args = parser.parse_args(argv)
    try:
        if args.check:
            manifest = check_bundle(HERE)
            check_python(manifest)
            say(f"bundle intact: Crosswalk {manifest.get('crosswalk')}, "
                f"{len(manifest.get('wheels') or [])} wheels, for this Python")
            return 0
        prefix = (args.prefix or default_prefix()).expanduser().absolute()
        bin_dir = None if args.no_link else (args.bin_dir or default_bin_dir())
        link = None if bin_dir is None else bin_dir.expanduser().absolute() / (
            "crosswalk.exe" if os.name == "nt" else "crosswalk")
        install(HERE, prefix, link, args.replace)
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Interrupted):
        print("error: interrupted; nothing new was installed (an earlier install is kept)",
              file=sys.stderr)
        return 2
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}; nothing was installed", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
