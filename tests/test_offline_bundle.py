"""The offline install bundle: built by `packaging/build_offline_bundle.py`, installed by its
own `install.py` with every Python process refusing the network, and refused — with nothing
written — when it is damaged, altered, incomplete, path-traversing or meant for another Python.

The bundle is built once per module (about 10 s: pip builds the Crosswalk wheel and fetches the
dependency wheels from its index); CI builds it with the script first and passes it in
CROSSWALK_OFFLINE_BUNDLE. Each install test works on its own unpacked copy.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from app import __version__
from tests.helpers import offline_environment

ROOT = Path(__file__).resolve().parent.parent
UNREACHABLE = ("No matching distribution found", "Could not find a version that satisfies")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("CROSSWALK_OFFLINE_BUNDLE")
    if given:
        assert Path(given).is_file(), f"CROSSWALK_OFFLINE_BUNDLE={given} does not exist"
        return Path(given)
    out = tmp_path_factory.mktemp("bundle")
    done = subprocess.run([sys.executable, str(ROOT / "packaging" / "build_offline_bundle.py"),
                           "-o", str(out)], capture_output=True, text=True, timeout=600,
                          check=False)
    if done.returncode != 0:
        if any(marker in done.stderr for marker in UNREACHABLE):
            pytest.skip("cannot build the offline bundle: pip reaches no index or mirror to "
                        f"fetch the dependency wheels from ({done.stderr.strip()[-200:]})")
        pytest.fail(f"build_offline_bundle.py failed:\n{done.stderr[-3000:]}")
    return Path(done.stdout.splitlines()[0])


@pytest.fixture(scope="module")
def unpacked(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    (folder,) = target.iterdir()
    return folder


@pytest.fixture
def bundle(unpacked: Path, tmp_path: Path) -> Path:
    """A private copy of the unpacked bundle, free to damage."""
    return Path(shutil.copytree(unpacked, tmp_path / unpacked.name, symlinks=True))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Every Python process (the installer, venv, pip, crosswalk) refuses the network; pip
    settings of this machine point at an unreachable index, which the installer must drop."""
    env = offline_environment(tmp_path / "guard")
    env.update(PIP_INDEX_URL="http://192.0.2.1/simple", PIP_FIND_LINKS=str(tmp_path / "none"),
               XDG_DATA_HOME=str(tmp_path / "xdg"), HOME=str(tmp_path / "home"))
    return env


def install(bundle: Path, tmp_path: Path, env: dict[str, str],
            *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(bundle / "install.py"), "--prefix", str(tmp_path / "app"),
         "--bin-dir", str(tmp_path / "bin"), *extra],
        capture_output=True, text=True, env=env, timeout=600, check=False)


def refused(done: subprocess.CompletedProcess[str], *words: str) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr, done.stderr
    return done.stderr


def nothing_installed(tmp_path: Path) -> None:
    assert not (tmp_path / "app").exists()
    assert not (tmp_path / "bin").exists()
    assert not list(tmp_path.glob(".app-old-*"))


def resum(bundle: Path) -> None:
    """Rewrite SHA256SUMS to match the files as they are now (a consistent but altered
    bundle), as a packager with bad intentions would."""
    lines = [f"{digest(p)}  {p.relative_to(bundle).as_posix()}\n"
             for p in sorted(bundle.rglob("*")) if p.is_file() and p.name != "SHA256SUMS"]
    (bundle / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")


# --- the archive ---------------------------------------------------------------------------


def test_the_archive_matches_its_checksum_file_and_holds_a_whole_bundle(archive: Path,
                                                                         unpacked: Path) -> None:
    expected, name = archive.with_name(archive.name + ".sha256").read_text().split()
    assert (expected, name) == (digest(archive), archive.name)
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        assert all(n == unpacked.name or n.startswith(f"{unpacked.name}/") for n in names)
        assert not any(".." in n.split("/") or n.startswith("/") for n in names)
        assert all(m.isfile() or m.isdir() for m in tar.getmembers())
    for part in ("install.py", "INSTALL.txt", "SHA256SUMS", "bundle.json", "requirements.txt"):
        assert (unpacked / part).is_file(), part
    manifest = json.loads((unpacked / "bundle.json").read_text())
    assert manifest["crosswalk"] == __version__
    assert manifest["target"]["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    wheels = sorted(p.name for p in (unpacked / "wheels").iterdir())
    assert wheels == manifest["wheels"]
    assert f"crosswalk_workbench-{__version__}-py3-none-any.whl" in wheels
    assert "textual-8.2.8-py3-none-any.whl" in wheels  # pinned exactly in pyproject
    for needed in ("sqlmodel", "reportlab", "pypdfium2", "cryptography", "networkx", "pyyaml",
                   "xlsxwriter", "pydantic_core", "click", "defusedxml", "platformdirs"):
        assert any(w.lower().startswith(f"{needed}-") for w in wheels), needed
    # every wheel pinned with its hash; every file in SHA256SUMS
    pins = (unpacked / "requirements.txt").read_text()
    for wheel in (unpacked / "wheels").iterdir():
        assert f"--hash=sha256:{digest(wheel)}" in pins, wheel.name
    sums = dict(reversed(line.split("  ", 1)) for line in
                (unpacked / "SHA256SUMS").read_text().splitlines())
    files = {p.relative_to(unpacked).as_posix(): digest(p) for p in unpacked.rglob("*")
             if p.is_file() and p.name != "SHA256SUMS"}
    assert sums == files


def test_a_truncated_or_altered_archive_fails_the_checksum(
        archive: Path, tmp_path: Path) -> None:
    expected = archive.with_name(archive.name + ".sha256").read_text().split()[0]
    data = archive.read_bytes()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(data[: len(data) // 2])
    altered = tmp_path / "altered.tar.gz"
    altered.write_bytes(data[:1000] + bytes([data[1000] ^ 0xFF]) + data[1001:])
    # An altered byte inside a compressed file can unpack without a word from tar (gzip's
    # CRC sits after the end of the tar stream): the archive's checksum is what catches it.
    assert digest(truncated) != expected and digest(altered) != expected
    with pytest.raises(EOFError), tarfile.open(truncated) as tar:
        tar.extractall(tmp_path / "out", filter="data")
    if shutil.which("sha256sum"):  # the README's step, as the user runs it
        shutil.copy(archive.with_name(archive.name + ".sha256"), tmp_path)
        for bad in (truncated, altered):
            (tmp_path / archive.name).write_bytes(bad.read_bytes())
            check = subprocess.run(["sha256sum", "-c", f"{archive.name}.sha256"],
                                   cwd=tmp_path, capture_output=True, text=True, check=False)
            assert check.returncode != 0 and "FAILED" in check.stdout


def test_unpacking_a_path_traversing_archive_writes_nothing_outside(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.tar.gz"
    with tarfile.open(hostile, "w:gz") as tar:
        for name in ("b/ok.txt", "b/../../escape.txt", str(tmp_path / "absolute.txt")):
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    out = tmp_path / "deep" / "out"
    out.mkdir(parents=True)
    with pytest.raises(tarfile.FilterError), tarfile.open(hostile) as tar:
        tar.extractall(out, filter="data")
    if shutil.which("tar"):  # the README's unpack step
        done = subprocess.run(["tar", "-xzf", str(hostile)], cwd=out, capture_output=True,
                              text=True, check=False)
        assert done.returncode != 0
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "deep" / "escape.txt").exists()
    assert not (tmp_path / "absolute.txt").exists()


# --- installing ----------------------------------------------------------------------------


def test_install_with_no_network_then_init_status_verify(bundle: Path, tmp_path: Path,
                                                         env: dict[str, str]) -> None:
    check = subprocess.run([sys.executable, str(bundle / "install.py"), "--check"],
                           capture_output=True, text=True, env=env, timeout=120, check=False)
    assert check.returncode == 0, check.stderr
    assert f"bundle intact: Crosswalk {__version__}" in check.stdout

    done = install(bundle, tmp_path, env)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert "offline" not in done.stderr
    link = tmp_path / "bin" / "crosswalk"
    assert link.is_symlink() and link.resolve() == (tmp_path / "app" / "bin" / "crosswalk")
    assert "is not on your PATH" in done.stdout  # tmp/bin is not on PATH: it says how
    marker = json.loads((tmp_path / "app" / "crosswalk-install.json").read_text())
    assert marker["crosswalk"] == __version__

    ws = tmp_path / "ws.db"
    out = {}
    for step in ("--version", "init", "status --json", "verify"):
        args = step.split() if step.startswith("-") else ["--workspace", str(ws), *step.split()]
        run = subprocess.run([str(link), *args], capture_output=True, text=True, env=env,
                             timeout=120, check=False)
        assert run.returncode == 0, (args, run.stderr)
        assert "offline" not in run.stderr
        out[step] = run.stdout
    assert json.loads(out["status --json"])["counts"]["controls"] == 12
    assert "intact" in out["verify"]
    # the installed packages came from the bundle only
    frozen = subprocess.run([str(tmp_path / "app" / "bin" / "python"), "-m", "pip", "freeze"],
                            capture_output=True, text=True, env=env, check=True).stdout
    assert f"crosswalk-workbench=={__version__}" in frozen
    assert "textual==8.2.8" in frozen


def test_an_existing_install_is_replaced_only_when_asked_and_restored_on_failure(
        bundle: Path, tmp_path: Path, env: dict[str, str]) -> None:
    assert install(bundle, tmp_path, env).returncode == 0
    marker = (tmp_path / "app" / "crosswalk-install.json").read_text()

    refused(install(bundle, tmp_path, env), "already installed", "--replace")
    assert (tmp_path / "app" / "crosswalk-install.json").read_text() == marker

    # a consistent bundle whose pip step fails: the old install comes back untouched
    pins = bundle / "requirements.txt"
    pins.write_text(pins.read_text().replace("textual==8.2.8", "textual==8.2.9"))
    resum(bundle)
    refused(install(bundle, tmp_path, env, "--replace"), "pip could not install")
    assert (tmp_path / "app" / "crosswalk-install.json").read_text() == marker
    assert not list(tmp_path.glob(".app-old-*"))
    works = subprocess.run([str(tmp_path / "bin" / "crosswalk"), "--version"],
                           capture_output=True, text=True, env=env, check=False)
    assert works.returncode == 0 and __version__ in works.stdout


def test_a_folder_that_is_not_an_install_or_a_foreign_link_is_never_touched(
        bundle: Path, tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "thesis.txt").write_text("mine")
    refused(install(bundle, tmp_path, env, "--replace"), "not a Crosswalk install")
    assert [p.name for p in (tmp_path / "app").iterdir()] == ["thesis.txt"]

    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "crosswalk").write_text("#!/bin/sh\necho other\n")
    refused(install(bundle, tmp_path, env, "--prefix", str(tmp_path / "other")),
            "not a link to this install")
    assert not (tmp_path / "other").exists()
    assert (tmp_path / "bin" / "crosswalk").read_text().endswith("echo other\n")


@pytest.mark.parametrize("damage, words", [
    ("flip a byte in a wheel", ["wheels/click-", "does not match its SHA-256"]),
    ("delete a wheel", ["wheels/click-", "is missing"]),
    ("add a wheel", ["wheels/evil-1.0-py3-none-any.whl", "is not listed"]),
    ("sums name a path outside", ["'../outside.txt'", "a path outside the bundle"]),
    ("sums name an absolute path", ["'/etc/passwd'", "a path outside the bundle"]),
    ("sums line garbled", ["SHA256SUMS line 1 is not"]),
    ("no sums", ["SHA256SUMS is missing"]),
    ("a wheel replaced by a link", ["wheels/click-", "is not a plain file"]),
])
def test_a_damaged_or_altered_bundle_is_refused_before_anything_is_written(
        bundle: Path, tmp_path: Path, env: dict[str, str], damage: str,
        words: list[str]) -> None:
    click = next((bundle / "wheels").glob("click-*.whl"))
    sums = bundle / "SHA256SUMS"
    if damage == "flip a byte in a wheel":
        data = bytearray(click.read_bytes())
        data[len(data) // 2] ^= 0x01
        click.write_bytes(bytes(data))
    elif damage == "delete a wheel":
        click.unlink()
    elif damage == "add a wheel":
        (bundle / "wheels" / "evil-1.0-py3-none-any.whl").write_bytes(b"PK\x05\x06" + bytes(18))
    elif damage == "sums name a path outside":
        (tmp_path / "outside.txt").write_text("x")
        sums.write_text(sums.read_text() + f"{'0' * 64}  ../outside.txt\n")
    elif damage == "sums name an absolute path":
        sums.write_text(sums.read_text() + f"{'0' * 64}  /etc/passwd\n")
    elif damage == "sums line garbled":
        sums.write_text("not a checksum\n" + sums.read_text())
    elif damage == "no sums":
        sums.unlink()
    elif damage == "a wheel replaced by a link":
        target = tmp_path / click.name
        shutil.move(click, target)
        click.symlink_to(target)
    message = refused(install(bundle, tmp_path, env), *words)
    assert len(message.splitlines()) <= 3, message
    nothing_installed(tmp_path)


@pytest.mark.parametrize("field, value, words", [
    ("python", "3.99", ["this bundle is for CPython 3.99"]),
    ("machine", "riscv128", ["this bundle is for", "riscv128", "build a bundle for it"]),
])
def test_a_bundle_for_another_python_or_machine_is_refused(
        bundle: Path, tmp_path: Path, env: dict[str, str], field: str, value: str,
        words: list[str]) -> None:
    manifest = json.loads((bundle / "bundle.json").read_text())
    manifest["target"][field] = value
    (bundle / "bundle.json").write_text(json.dumps(manifest))
    resum(bundle)
    refused(install(bundle, tmp_path, env), *words)
    nothing_installed(tmp_path)


def other_pythons() -> list[str]:
    """CPython 3.7+ interpreters on this machine other than the running one (pyenv's too)."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    found = []
    for minor in range(7, 15):
        if f"3.{minor}" == here:
            continue
        candidates = [shutil.which(f"python3.{minor}"),
                      *map(str, Path.home().glob(f".pyenv/versions/3.{minor}.*/bin/python"))]
        for exe in filter(None, candidates):
            probe = subprocess.run([exe, "-c", "import sys; print(sys.version_info[:2])"],
                                   capture_output=True, text=True, check=False)
            if probe.returncode == 0 and f"(3, {minor})" in probe.stdout:
                found.append(exe)
                break
    return found


def test_another_python_gets_one_sentence_naming_the_right_one(
        bundle: Path, tmp_path: Path, env: dict[str, str]) -> None:
    """Older ones too: the installer must run far enough on 3.7+ to say which it needs."""
    pythons = other_pythons()
    if not pythons:
        pytest.skip("no other CPython 3.7+ on this machine to run the installer with")
    wanted = f"{sys.version_info.major}.{sys.version_info.minor}"
    for exe in pythons:
        done = subprocess.run([exe, str(bundle / "install.py"), "--prefix",
                               str(tmp_path / "app"), "--bin-dir", str(tmp_path / "bin")],
                              capture_output=True, text=True, env=env, timeout=120,
                              check=False)
        refused(done, f"this bundle is for CPython {wanted}", f"run the installer with "
                f"python{wanted}")
        assert len(done.stderr.splitlines()) == 1
    nothing_installed(tmp_path)


@pytest.mark.parametrize("where, words", [
    ("bin dir is a file", ["is a file, not a folder; choose another --bin-dir"]),
    ("prefix under a file", ["is a file, not a folder; choose another --prefix"]),
    ("prefix inside the bundle", ["is inside the bundle folder"]),
])
def test_impossible_places_are_refused_before_anything_is_written(
        bundle: Path, tmp_path: Path, env: dict[str, str], where: str,
        words: list[str]) -> None:
    (tmp_path / "afile").write_text("x")
    prefix, bin_dir = tmp_path / "app", tmp_path / "bin"
    if where == "bin dir is a file":
        bin_dir = tmp_path / "afile"
    elif where == "prefix under a file":
        prefix = tmp_path / "afile" / "app"
    else:
        prefix = bundle / "venv"
    done = subprocess.run([sys.executable, str(bundle / "install.py"), "--prefix", str(prefix),
                           "--bin-dir", str(bin_dir)], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    refused(done, *words)
    nothing_installed(tmp_path)
    assert not (bundle / "venv").exists()


def test_a_replace_stopped_by_sigterm_puts_the_old_install_back(
        bundle: Path, tmp_path: Path, env: dict[str, str]) -> None:
    import signal

    assert install(bundle, tmp_path, env).returncode == 0
    marker = (tmp_path / "app" / "crosswalk-install.json").read_text()
    proc = subprocess.Popen(
        [sys.executable, "-u", str(bundle / "install.py"), "--prefix", str(tmp_path / "app"),
         "--bin-dir", str(tmp_path / "bin"), "--replace"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("installing"):  # the old one is aside, the new one half-made
                proc.send_signal(signal.SIGTERM)
                break
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 2 and "interrupted" in err, err
    assert (tmp_path / "app" / "crosswalk-install.json").read_text() == marker
    assert not list(tmp_path.glob(".app-old-*"))


def test_an_install_killed_mid_replace_is_recovered_on_the_next_run(
        bundle: Path, tmp_path: Path, env: dict[str, str]) -> None:
    """As SIGKILL or a power cut leaves it: the earlier install aside, a half-built venv."""
    assert install(bundle, tmp_path, env).returncode == 0
    marker = (tmp_path / "app" / "crosswalk-install.json").read_text()
    (tmp_path / "app").rename(tmp_path / ".app-old-x1")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "pyvenv.cfg").write_text("home = /nowhere\n")
    done = install(bundle, tmp_path, env)
    assert "put back the earlier install" in done.stdout
    refused(done, "already installed")  # then, without --replace, it stops there
    assert (tmp_path / "app" / "crosswalk-install.json").read_text() == marker
    assert not list(tmp_path.glob(".app-old-*"))
