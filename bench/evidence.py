"""Evidence (issue 6): adding a large file as evidence and `verify` re-hashing it, beside
`sha256sum` + `cp` on the same file, in one run; then listing 20,000 records.

    python bench/evidence.py [--size-mb 1024] [--runs 3] [--records 20000]

Targets: adding a 1 GB file costs ≤ 50 MB of extra RSS and runs at ≥ 70 % of the throughput of
`sha256sum FILE && cp FILE DEST`; `verify` re-hashes at ≥ 70 % of `sha256sum` on the same
blob. Ours is the service the CLI calls (`add_evidence` on a real workspace: blob, rows and
audit events; `verify`: the whole check, chain and rows included). Each figure is a fresh
process; the file's pages are in the page cache for both sides (it is read once before
timing), so the comparison is of the work, not of the disk. Extra RSS is the child's peak RSS
less that of the same child after opening its workspace.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHILD = """
import json, resource, sys, time
from pathlib import Path
from app.services.audit import verify
from app.services.evidence import Source, add_evidence
from app.services.workspace import open_workspace
ws = Path(sys.argv[2])
store = open_workspace(ws, create=not ws.exists(), library=False, actor="bench")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if sys.argv[1] == "put":
    sha = add_evidence(store, Source(Path(sys.argv[3])), title="bench").version.sha256
else:
    report = verify(store)
    assert report.intact and report.files_checked == 1, report.as_dict()
    sha = ""
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "extra_mb": (peak - base) / 1024, "sha": sha}))
"""


def child(*args: str) -> dict[str, float | str]:
    out = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True,
                         check=True, cwd=HERE.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--records", type=int, default=20000, help="0: skip the listing figures")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        src = folder / "evidence.bin"
        with src.open("wb") as fh:  # incompressible content
            for _ in range(args.size_mb):
                fh.write(os.urandom(1 << 20))
        subprocess.run(["cat", str(src)], stdout=subprocess.DEVNULL, check=True)  # cached
        mb = args.size_mb
        ours, theirs, extra, rehash, sums = [], [], [], [], []
        for i in range(args.runs):
            ws = folder / f"ws-{i}.db"
            blobs = folder / f"ws-{i}.db.blobs"
            r = child("put", str(ws), str(src))
            ours.append(float(r["seconds"]))
            extra.append(float(r["extra_mb"]))
            dest = folder / f"copy-{i}"
            theirs.append(timed(["sh", "-c", f"sha256sum '{src}' >/dev/null && "
                                             f"cp '{src}' '{dest}' && sync -f '{dest}'"]))
            dest.unlink()
            blob = blobs / "sha256" / str(r["sha"])[:2] / str(r["sha"])[2:4] / str(r["sha"])
            rehash.append(float(child("verify", str(ws))["seconds"]))
            sums.append(timed(["sha256sum", str(blob)]))
            shutil.rmtree(blobs, ignore_errors=True)
        o, t = statistics.median(ours), statistics.median(theirs)
        rh, ss = statistics.median(rehash), statistics.median(sums)
        print(f"file: {mb:,} MB of random bytes, in the page cache; medians of {args.runs}")
        print(f"  sha256sum + cp (+ sync)    {t:7.2f} s   {mb / t:7.0f} MB/s")
        print(f"  ours: evidence add         {o:7.2f} s   {mb / o:7.0f} MB/s   "
              f"{t / o:.0%} of theirs (target ≥ 70 %) {'ok' if t / o >= 0.7 else 'UNDER'}; "
              f"extra RSS {max(extra):.1f} MB (target ≤ 50 MB) "
              f"{'ok' if max(extra) <= 50 else 'OVER'}")
        print(f"  sha256sum of the blob      {ss:7.2f} s   {mb / ss:7.0f} MB/s")
        print(f"  ours: verify               {rh:7.2f} s   {mb / rh:7.0f} MB/s   "
              f"{ss / rh:.0%} of sha256sum (target ≥ 70 %) {'ok' if ss / rh >= 0.7 else 'UNDER'}")
    if args.records:
        listing(args.records)


def listing(records: int) -> None:
    """`evidence list`, the control roll-up and the Dashboard summary on `records` pieces."""
    sys.path.insert(0, str(HERE))
    from make_workspace import synthetic_evidence

    from app.services.evidence_status import control_rollup, list_evidence, summary
    from app.services.workspace import open_workspace

    with tempfile.TemporaryDirectory() as tmp:
        store = open_workspace(Path(tmp) / "ws.db", create=True, library=False, actor="bench")
        synthetic_evidence(store, records)
        print(f"{records:,} pieces of evidence (median of 5, warm):")
        for name, fn in (("list_evidence (evidence list)", lambda: list_evidence(store)),
                         ("control_rollup", lambda: control_rollup(store)),
                         ("summary (Dashboard)", lambda: summary(store))):
            times = []
            for _ in range(5):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
            print(f"  {name:<30} {statistics.median(times) * 1000:7.1f} ms")
        store.close()


if __name__ == "__main__":
    main()
