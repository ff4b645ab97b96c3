"""Dossier bundles (issue 9): `verify-bundle` throughput beside `sha256sum` on the same data.

    python bench/verify_bundle.py [--size-mb 1024] [--runs 3]

Builds a bundle in a temp dir: one large member of random bytes (written to a file from
os.urandom chunks, stored uncompressed in the zip, as evidence files are) and a few small
ones, through `write_bundle`, signed with a fresh key. Then times `sha256sum` of the large
member's file (a subprocess) and `verify_bundle` of the whole bundle with the public key
(in-process: the service `crosswalk verify-bundle` calls), `runs` times each, and prints the
medians and the ratio of our throughput to sha256sum's. Target: ≥ 70 %. Both files are read
once before timing so both sides hash from the page cache. `openssl dgst -sha256`, when
present, is shown as a second reference (coreutils' sha256sum may not use the CPU's SHA
instructions; OpenSSL, like Python's hashlib, does).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHUNK = 1 << 20


def random_file(path: Path, size_mb: int) -> None:
    with path.open("wb") as fh:
        for _ in range(size_mb):
            fh.write(os.urandom(CHUNK))


def warm(path: Path) -> None:
    with path.open("rb", buffering=0) as fh:
        buf = bytearray(CHUNK)
        while fh.readinto(buf):
            pass


def timed_cmd(cmd: list[str], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    from app import __version__
    from app.exporters.bundle import Member, generate_keypair, write_bundle
    from app.services.bundle_verify import verify_bundle

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024, help="size of the large member (MiB)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    mb = args.size_mb * CHUNK / 1e6  # decimal MB, for the rates
    with tempfile.TemporaryDirectory(prefix="crosswalk-bench-bundle-") as tmp:
        folder = Path(tmp)
        big = folder / "evidence.bin"
        random_file(big, args.size_mb)
        generate_keypair(folder / "k.key", folder / "k.pub")
        members = [Member("dossier.pdf", data=b"%PDF-1.7\n" + os.urandom(200_000)),
                   Member("matrix.csv", data=b"control,clause,status\n" * 5000),
                   Member("oscal/gdpr-mappings.json", data=b'{"mapping-collection": {}}\n'),
                   Member("evidence/1/v1/evidence.bin", path=big)]
        bundle = folder / "dossier.zip"
        start = time.perf_counter()
        result = write_bundle(bundle, members, audit_head="0" * 64, audit_seq=1,
                              workspace_id="bench", generated_at="2026-11-26T09:00:00Z",
                              version=__version__, sign_key=folder / "k.key")
        wrote = time.perf_counter() - start
        total_mb = result.bytes / 1e6
        warm(big)
        warm(bundle)

        ours = []
        for _ in range(args.runs):
            start = time.perf_counter()
            report = verify_bundle(bundle, folder / "k.pub")
            ours.append(time.perf_counter() - start)
            assert report.ok and report.signature_ok, report.problems
        refs: list[tuple[str, list[float]]] = []
        if shutil.which("sha256sum"):
            refs.append(("sha256sum", timed_cmd(["sha256sum", str(big)], args.runs)))
        if shutil.which("openssl"):
            refs.append(("openssl dgst -sha256",
                         timed_cmd(["openssl", "dgst", "-sha256", str(big)], args.runs)))

        o = statistics.median(ours)
        print(f"bundle: {args.size_mb:,} MiB random member + 3 small ones, {total_mb:,.0f} MB "
              f"of member data, signed; medians of {args.runs} runs, page cache warm")
        print(f"  ours: write_bundle (1 run)       {wrote:7.2f} s   {total_mb / wrote:7.0f} MB/s")
        print(f"  ours: verify_bundle + signature  {o:7.2f} s   {total_mb / o:7.0f} MB/s   "
              f"(runs {', '.join(f'{t:.2f}' for t in ours)})")
        for name, times in refs:
            t = statistics.median(times)
            ratio = (total_mb / o) / (mb / t)
            verdict = ("ok" if ratio >= 0.7 else "UNDER") if name == "sha256sum" else ""
            target = "  (target ≥ 70 %)" if name == "sha256sum" else ""
            print(f"  {name:<31}  {t:7.2f} s   {mb / t:7.0f} MB/s   ours is {ratio:.0%} of "
                  f"its throughput{target} {verdict}".rstrip())
        if not refs:
            print("  sha256sum not found: no reference figure")


if __name__ == "__main__":
    main()
