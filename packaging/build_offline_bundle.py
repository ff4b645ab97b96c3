"""Build Crosswalk's offline install bundle: one archive with the Crosswalk wheel, every
dependency wheel for one target (Python version and platform), the installer, pinned
requirements with hashes and a SHA-256 sums file; and `<archive>.sha256` beside it.

    python packaging/build_offline_bundle.py                    # for this machine
    python packaging/build_offline_bundle.py --python-version 3.12 \\
        --platform win_amd64                                     # for a Windows workstation
    python packaging/build_offline_bundle.py --python-version 3.11 \\
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \\
        --platform manylinux2014_x86_64                          # Linux, older glibc too

The building machine needs pip's index (or a local mirror of it); the target needs neither.
Only wheels go in (`--only-binary=:all:`), so nothing is compiled on the target. Standard
library only; run it with the Python whose pip should fetch the wheels.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
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
    sha256,
    version,
    write_archive,
    write_sums,
)

HERE = Path(__file__).resolve().parent
LINUX_TAG = re.compile(r"^(?:many|musl)?linux(?:_\d+_\d+|1|2010|2014)?_(?P<arch>.+)$")
MAC_TAG = re.compile(r"^macosx_\d+_\d+_(?P<arch>.+)$")
WINDOWS_ARCH = {"win32": "x86", "win_amd64": "amd64", "win_arm64": "arm64"}
# a wheel file name: name-version(-build)?-python-abi-platform.whl
WHEEL_NAME = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


def target_of_tag(tag: str) -> tuple[str, str]:
    """(system, machine) as `platform.system().lower()` and `platform.machine().lower()`
    name them on the target, for a wheel platform tag."""
    if tag in WINDOWS_ARCH:
        return "windows", WINDOWS_ARCH[tag]
    if match := MAC_TAG.match(tag):
        return "darwin", match["arch"]
    if match := LINUX_TAG.match(tag):
        return "linux", match["arch"]
    raise BuildError(f"unknown platform tag {tag!r}: use a wheel platform tag such as "
                     "manylinux_2_17_x86_64, macosx_11_0_arm64 or win_amd64")


def target(python_version: str | None, platforms: list[str]) -> dict[str, object]:
    """The bundle's target: this machine's, or the one the options name."""
    py = python_version or f"{sys.version_info.major}.{sys.version_info.minor}"
    if not re.fullmatch(r"3\.\d{1,2}", py):
        raise BuildError(f"--python-version {py!r}: give a major.minor version such as 3.12")
    if platforms:
        found = {target_of_tag(tag) for tag in platforms}
        if len(found) != 1:
            raise BuildError(f"--platform tags {', '.join(platforms)} name more than one "
                             "system or machine; build one bundle for each")
        system, machine = found.pop()
    else:
        system, machine = platform.system().lower(), platform.machine().lower()
    return {"python": py, "implementation": "cp", "system": system, "machine": machine,
            "platform_tags": platforms or None}


GLIBC_TAG = re.compile(r"^manylinux_(\d+)_(\d+)_")
LEGACY_GLIBC = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def glibc_floor(wheels: list[str]) -> str | None:
    """The oldest glibc every Linux wheel runs on: for each wheel the lowest of its
    manylinux tags, and the highest of those over all wheels (None without such wheels)."""
    floor: tuple[int, int] | None = None
    for name in wheels:
        versions = []
        for tag in name.removesuffix(".whl").split("-")[-1].split("."):
            if match := GLIBC_TAG.match(tag):
                versions.append((int(match[1]), int(match[2])))
            elif tag.split("_")[0] in LEGACY_GLIBC:
                versions.append(LEGACY_GLIBC[tag.split("_")[0]])
        if versions:
            floor = max(floor or (0, 0), min(versions))
    return f"{floor[0]}.{floor[1]}" if floor else None


def download_options(tgt: dict[str, object], native: bool) -> list[str]:
    if native:
        return []
    nodot = str(tgt["python"]).replace(".", "")
    opts = ["--python-version", str(tgt["python"]), "--implementation", "cp",
            "--abi", f"cp{nodot}", "--abi", "abi3", "--abi", "none"]
    for tag in tgt["platform_tags"] or []:  # type: ignore[attr-defined]
        opts += ["--platform", tag]
    return opts


def requirements(wheels: Path) -> str:
    """Every wheel pinned by name, version and SHA-256, for `pip --require-hashes`."""
    lines = ["# Crosswalk and its dependencies, each pinned to the wheel in wheels/.\n"]
    for wheel in sorted(wheels.glob("*.whl")):
        match = WHEEL_NAME.match(wheel.name)
        if not match:
            raise BuildError(f"cannot read the name and version of {wheel.name}")
        name = re.sub(r"[-_.]+", "-", match["name"]).lower()
        lines.append(f"{name}=={match['version']} --hash=sha256:{sha256(wheel)}\n")
    return "".join(lines)


def build(out: Path, python_version: str | None, platforms: list[str]) -> Path:
    native = python_version is None and not platforms
    tgt = target(python_version, platforms)
    ver = version()
    name = f"crosswalk-{ver}-offline-cp{str(tgt['python']).replace('.', '')}" \
           f"-{tgt['system']}-{tgt['machine']}"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crosswalk-bundle-") as scratch_name:
        scratch = Path(scratch_name)
        folder = scratch / name
        wheels = folder / "wheels"
        wheels.mkdir(parents=True)
        print(f"building the Crosswalk {ver} wheel …", file=sys.stderr)
        ours = build_wheel(wheels, scratch)
        print(f"fetching the dependency wheels for Python {tgt['python']} on "
              f"{tgt['system']} {tgt['machine']} …", file=sys.stderr)
        run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
             "--dest", str(wheels), *download_options(tgt, native), str(ours)],
            "fetching the dependency wheels")
        (folder / "requirements.txt").write_text(requirements(wheels), encoding="utf-8",
                                                 newline="\n")
        names = sorted(p.name for p in wheels.glob("*.whl"))
        if tgt["system"] == "linux":
            tgt["glibc"] = glibc_floor(names)
        manifest = {"format": "crosswalk-offline-bundle/1", "crosswalk": ver, "target": tgt,
                    "wheels": names}
        (folder / "bundle.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                            encoding="utf-8", newline="\n")
        shutil.copyfile(HERE / "offline_install.py", folder / "install.py")
        shutil.copyfile(HERE / "OFFLINE-INSTALL.txt", folder / "INSTALL.txt")
        write_sums(folder)
        archive = write_archive(folder, out / f"{name}.tar.gz")
    return archive


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--out", type=Path, default=ROOT / "dist",
                        help="folder for the archive and its .sha256 (default: dist/)")
    parser.add_argument("--python-version", help="target Python, major.minor (default: this "
                        "Python's)")
    parser.add_argument("--platform", action="append", default=[], metavar="TAG",
                        help="target wheel platform tag, repeatable (default: this machine)")
    args = parser.parse_args()
    archive = build(args.out, args.python_version, args.platform)
    print(archive)
    print(archive.with_name(archive.name + ".sha256"))
    return 0


if __name__ == "__main__":
    main_guard(main)
