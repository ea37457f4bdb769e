"""Run every SPEC §6 benchmark in this folder and print one table: figure, measured, reference,
target, met. Each benchmark prints its own figures beside their reference from the same run as it
goes; the table collects them. All results also go to benchmarks/results/<timestamp>.json, for
comparison over time.

    python benchmarks/run.py [--only NAME ...] [--quick]

A benchmark script takes `--json FILE` and writes its results there. A `figures` list in that
JSON (rows with figure, measured, reference, target, met) is used as it is; the known scripts
without one are summarised here. A script that is not in the folder yet gets a line saying so.
Exit status: 0 when every figure that was measured meets its target, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

# In SPEC §6 order. (script, what it measures, extra arguments for --quick)
BENCHMARKS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("bench_credential_process.py", "credential-process via the running tray", ("--runs", "10")),
    ("bench_tray.py", "tray start to icon; idle memory and CPU", ()),
    ("bench_sso_refresh.py", "200 SSO profiles; network calls", ()),
    ("bench_credfile.py", "credentials file with 1,000 and 10,000 sections", ()),
)

Row = dict[str, Any]


def _credential_process_rows(result: dict[str, Any]) -> list[Row]:
    ours, ref = result["traycred"], result["reference_boto3"]
    return [
        {
            "figure": "credential-process via the running instance, p50",
            "measured": f"{ours['p50_ms']:.1f} ms",
            "reference": f"{ref['p50_ms']:.1f} ms fresh boto3 ({result['speedup_p50']}x)",
            "target": f"< {result['target_p50_ms']:.0f} ms and >= {result['target_speedup']:.0f}x",
            "met": bool(result["meets_targets"]),
        }
    ]


# Scripts whose JSON has no `figures` list: how to read their results.
SUMMARISERS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "bench_credential_process.py": _credential_process_rows,
}


def rows_of(script: str, result: dict[str, Any]) -> list[Row]:
    figures = result.get("figures")
    if isinstance(figures, list) and figures:
        return [dict(row) for row in figures]
    summarise = SUMMARISERS.get(script)
    if summarise is not None:
        try:
            return summarise(result)
        except (KeyError, TypeError, ValueError):
            pass
    return [
        {
            "figure": result.get("benchmark", script),
            "measured": "see its output",
            "reference": "-",
            "target": "-",
            "met": bool(result.get("meets_targets", False)),
        }
    ]


def run_one(script: str, extra: Sequence[str]) -> tuple[list[Row], dict[str, Any] | None, float]:
    """Run one benchmark with its output shown live; its rows, raw results and wall time."""
    with tempfile.TemporaryDirectory(prefix="traycred-bench-run-") as folder:
        out = Path(folder) / "result.json"
        started = time.monotonic()
        completed = subprocess.run(
            [sys.executable, str(HERE / script), *extra, "--json", str(out)],
            check=False,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        elapsed = time.monotonic() - started
        if not out.exists():
            return (
                [
                    {
                        "figure": script,
                        "measured": f"failed (exit {completed.returncode}), no results",
                        "reference": "-",
                        "target": "-",
                        "met": False,
                    }
                ],
                None,
                elapsed,
            )
        result: dict[str, Any] = json.loads(out.read_text())
    return rows_of(script, result), result, elapsed


def table(rows: Sequence[Row]) -> str:
    headers = ("figure", "measured", "reference", "target", "met?")
    cells = [
        (
            str(r["figure"]),
            str(r["measured"]),
            str(r["reference"]),
            str(r["target"]),
            "-" if r.get("met") is None else ("yes" if r["met"] else "NO"),
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)) for cell in cells]
    return "\n".join(line.rstrip() for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="e.g. sso_refresh credfile")
    parser.add_argument("--quick", action="store_true", help="fewer runs where a script allows")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder for the JSON")
    args = parser.parse_args(argv)

    rows: list[Row] = []
    raw: dict[str, Any] = {}
    missing: list[str] = []
    for script, what, quick in BENCHMARKS:
        if args.only and not any(name in script for name in args.only):
            continue
        if not (HERE / script).exists():
            print(f"== {script}: not present in benchmarks/ yet; skipped ({what}).\n", flush=True)
            missing.append(script)
            rows.append(
                {
                    "figure": what,
                    "measured": f"not measured ({script} missing)",
                    "reference": "-",
                    "target": "-",
                    "met": None,
                }
            )
            continue
        print(f"== {script}: {what}", flush=True)
        script_rows, result, elapsed = run_one(script, quick if args.quick else ())
        print(f"   ({elapsed:.1f} s)\n", flush=True)
        rows += script_rows
        raw[script] = {"seconds": round(elapsed, 1), "result": result}

    print(table(rows))
    measured = [r for r in rows if r.get("met") is not None]
    met = all(r["met"] for r in measured)
    print(
        f"\n{sum(1 for r in measured if r['met'])} of {len(measured)} measured figures meet "
        f"their targets" + (f"; not measured: {', '.join(missing)}" if missing else "")
    )

    args.results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().astimezone()
    path = args.results / f"{stamp:%Y%m%d-%H%M%S}.json"
    path.write_text(
        json.dumps(
            {
                "when": stamp.isoformat(timespec="seconds"),
                "machine": {
                    "python": sys.version.split()[0],
                    "platform": platform.platform(),
                    "cpus": os.cpu_count(),
                },
                "figures": rows,
                "missing": missing,
                "benchmarks": raw,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"results: {path}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
