"""`make bench`: the real pipeline at named scales, beside hand-written references on the same
files, in one invocation on one machine.

For each scale (`wales`, `2k-bodies`, `uk`; see scales.py) it copies the repository's files to a
work folder, enlarges the register there, writes demo returns for every body, then measures:
- the DuckDB and pandas references (references.py) on the landing files;
- a full run of the `digital_progress` job on an empty warehouse, as `make run` runs it;
- a run with nothing new;
- a run after a new month's return from every body.
Each measure is wall time and the peak resident memory of the whole process tree (sampled every
50 ms from /proc), and for runs the time of each Dagster step (from the run's own step stats).
Results go to `<out>/<scale>.json`, a chart to `<out>/<scale>.svg`, and the table to stdout.

    python -m tests.bench.run --scale wales [--scale 2k-bodies] [--out bench-results]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.scales import SCALES, Scale, enlarge_register

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = Path(sys.executable)
BIN = PYTHON.parent


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    output: str = ""
    stages: dict[str, float] = field(default_factory=dict)
    stage_peak_mb: dict[str, float] = field(default_factory=dict)
    samples: list[tuple[float, int]] = field(default_factory=list)  # (epoch seconds, tree kB)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss_kb(root: int) -> int:
    tree, total, stack = _children(), 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_kb(pid)
        stack += tree.get(pid, [])
    return total


# A reference may hold more than the machine has (the pandas script keeps a frame per file: about
# 18 GB and rising at the UK scale, on a 23 GB machine): it is stopped at this much address
# space, and its result recorded as not finished, rather than left to the out-of-memory killer.
REFERENCE_MEMORY_LIMIT = 8 * 1024**3


class OutOfMemory(Exception):
    def __init__(self, seconds: float, peak_mb: float) -> None:
        super().__init__(f"stopped at its memory limit after {seconds:.0f} s")
        self.seconds, self.peak_mb = seconds, peak_mb


def _limit_memory(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def measure(
    command: list[str], *, cwd: Path, env: dict[str, str], memory_limit: int | None = None
) -> Measure:
    """Run `command`, sampling the memory of its whole process tree; fail loudly if it fails
    (OutOfMemory when it failed with `memory_limit` set: a MemoryError within the limit)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=None if memory_limit is None else lambda: _limit_memory(memory_limit),
    )
    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.time(), _tree_rss_kb(process.pid)))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    peak = max((kb for _, kb in samples), default=0)
    # Out of memory shows as a MemoryError or as whatever failed to allocate (pandas' reader:
    # "Calling read(nbytes) on source failed"): any failure under the limit is taken as it.
    if process.returncode != 0 and memory_limit is not None:
        raise OutOfMemory(seconds, round(peak / 1024, 1))
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{output[-4000:]}")
    return Measure(round(seconds, 2), round(peak / 1024, 1), output, samples=samples)


def copy_repository(target: Path) -> Path:
    """The repository's files (tracked ones, as on disk) in `target`, so a scale can change its
    register without touching the real one."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO_ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for relative in filter(None, listed):
        source = REPO_ROOT / relative
        if source.is_file():
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)
    return target


def step_stats(env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """(start, end) in epoch seconds of each step of the latest run in the instance under the
    data root."""
    script = (
        "import json\n"
        "from dagster import DagsterInstance\n"
        "i = DagsterInstance.get()\n"
        "run = i.get_run_records(limit=1)[0].dagster_run\n"
        "print(json.dumps({s.step_key: (s.start_time, s.end_time)\n"
        "    for s in i.get_run_step_stats(run.run_id) if s.end_time and s.start_time}))\n"
    )
    done = subprocess.run(
        [str(PYTHON), "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return {step: tuple(times) for step, times in json.loads(done.stdout).items()}


def per_stage(m: Measure, steps: dict[str, tuple[float, float]]) -> None:
    """Each step's seconds, and the peak memory of the process tree while it ran."""
    for step, (start, end) in steps.items():
        m.stages[step] = round(end - start, 2)
        during = [kb for moment, kb in m.samples if start <= moment <= end]
        m.stage_peak_mb[step] = round(max(during, default=0) / 1024, 1)


def new_month(scale: Scale) -> tuple[str, int]:
    year, month = (int(p) for p in scale.end.split("-"))
    month += 1
    if month == 13:
        year, month = year + 1, 1
    return f"{year:04d}-{month:02d}", scale.months + 1


def bench(scale: Scale, work: Path) -> dict:
    if work.exists():
        shutil.rmtree(work)
    repo = copy_repository(work / "repo")
    data = work / "data"
    enlarge_register(repo / "dbt" / "seeds", scale)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(repo),
        "DIGITAL_PROGRESS_DATA": str(data),
        "DAGSTER_HOME": str(data / ".dagster"),
        "GX_ANALYTICS_ENABLED": "false",
    }
    for name in ("DIGITAL_PROGRESS_PERIOD", "DIGITAL_PROGRESS_AS_OF"):
        env.pop(name, None)
    (data / ".dagster").mkdir(parents=True)
    shutil.copy(repo / "dagster_project" / "instance" / "dagster.yaml", data / ".dagster")

    python = str(PYTHON)
    measure([python, "-m", "exports.methodology", "--dbt-docs"], cwd=repo, env=env)
    parse = measure(
        [str(BIN / "dbt"), "parse", "--quiet", "--profiles-dir", "."], cwd=repo / "dbt", env=env
    )
    generate = measure(
        [
            python,
            "-m",
            "dagster_project.collect.demo_data",
            "--uncollected",
            "--end",
            scale.end,
            "--months",
            str(scale.months),
        ],
        cwd=repo,
        env=env,
    )
    landing = data / "landing"
    references = {}
    for kind in ("duckdb", "pandas"):
        command = [python, "-m", "tests.bench.references", kind, str(landing)]
        try:
            m = measure(
                [*command, str(repo / "dbt/seeds")],
                cwd=repo,
                env=env,
                # DuckDB reserves address space far beyond what it uses: pandas only
                memory_limit=REFERENCE_MEMORY_LIMIT if kind == "pandas" else None,
            )
        except OutOfMemory as stopped:
            references[kind] = {
                "seconds": round(stopped.seconds, 2),
                "peak_mb": stopped.peak_mb,
                "finished": False,
                "why": f"ran out of memory at the {REFERENCE_MEMORY_LIMIT / 1024**3:.0f} GB limit",
            }
            continue
        references[kind] = {
            "seconds": m.seconds,
            "peak_mb": m.peak_mb,
            "finished": True,
            **json.loads(m.output.strip().splitlines()[-1]),
        }

    def pipeline() -> Measure:
        # What `make run` runs once its checks pass: the job, quietly, with a summary.
        m = measure([python, "-m", "dagster_project.console"], cwd=repo, env=env)
        per_stage(m, step_stats(env))
        return m

    runs = {"full": pipeline(), "nothing_new": pipeline()}
    end, months = new_month(scale)
    fresh = work / "new-month"
    measure(
        [
            python,
            "-m",
            "dagster_project.collect.demo_data",
            "--uncollected",
            "--only-last",
            "--end",
            end,
            "--months",
            str(months),
        ],
        cwd=repo,
        env={**env, "DIGITAL_PROGRESS_DATA": str(fresh)},
    )
    added = 0
    for path in sorted((fresh / "landing").rglob(f"*_{end}*")):
        target = landing / path.relative_to(fresh / "landing")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        added += 1
    runs["new_month"] = pipeline()
    return {
        "scale": scale.__dict__,
        "machine": machine(),
        "files": references["duckdb"]["files"],
        "rows": references["duckdb"]["rows"],
        "new_month_files": added,
        "parse_seconds": parse.seconds,
        "generate_seconds": generate.seconds,
        "references": references,
        "runs": {
            name: {
                "seconds": m.seconds,
                "peak_mb": m.peak_mb,
                "stages": m.stages,
                "stage_peak_mb": m.stage_peak_mb,
            }
            for name, m in runs.items()
        },
    }


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(memory_kb / 1024**2, 1),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def table(results: list[dict]) -> str:
    lines = [
        "| scale | files | rows | full run | collect | nothing new | new month | DuckDB floor "
        "| pandas | peak memory |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        runs, refs = r["runs"], r["references"]
        collect = runs["full"]["stages"].get("submissions", float("nan"))  # the collect step
        lines.append(
            f"| {r['scale']['name']} | {r['files']:,} | {r['rows']:,} "
            f"| {runs['full']['seconds']:.1f} s | {collect:.1f} s "
            f"| {runs['nothing_new']['seconds']:.1f} s | {runs['new_month']['seconds']:.1f} s "
            f"| {refs['duckdb']['seconds']:.1f} s | {_reference(refs['pandas'])} "
            f"| {max(m['peak_mb'] for m in runs.values()) / 1024:.2f} GB |"
        )
    return "\n".join(lines)


def _reference(ref: dict) -> str:
    if ref.get("finished", True):
        return f"{ref['seconds']:.1f} s"
    return f"out of memory after {ref['seconds']:.0f} s"


def goals(result: dict) -> list[tuple[str, str, bool]]:
    """Issue 11's goals that apply to a result's scale: (goal, what was measured, met)."""
    runs, refs = result["runs"], result["references"]
    full = runs["full"]["seconds"]
    collect = runs["full"]["stages"].get("submissions", float("nan"))
    floor, pandas = refs["duckdb"]["seconds"], refs["pandas"]["seconds"]
    peak_gb = max(m["peak_mb"] for m in runs.values()) / 1024
    collect_gb = runs["full"].get("stage_peak_mb", {}).get("submissions", float("nan")) / 1024
    nothing, month = runs["nothing_new"]["seconds"], runs["new_month"]["seconds"]
    name = result["scale"]["name"]
    found: list[tuple[str, str, bool]] = []
    if name == "wales":
        found.append(("run with nothing new < 15 s", f"{nothing:.1f} s", nothing < 15))
    if name == "2k-bodies":
        found += [
            ("collect <= 3x DuckDB floor", f"{collect / floor:.1f}x", collect <= 3 * floor),
            ("nothing new < 20% of full", f"{nothing / full:.0%}", nothing < 0.2 * full),
            ("new month < 35% of full", f"{month / full:.0%}", month < 0.35 * full),
            ("peak memory < 2 GB", f"{peak_gb:.2f} GB", peak_gb < 2),
        ]
    if name == "uk":
        found += [
            ("collect <= 60 s", f"{collect:.1f} s", collect <= 60),
            ("collect peak memory <= 2 GB", f"{collect_gb:.2f} GB", collect_gb <= 2),
            ("whole publication <= 5 min", f"{full:.0f} s", full <= 300),
            (
                "full run >= 5x faster than pandas",
                # pandas that did not finish took at least the time it ran
                f"{pandas / full:.1f}x"
                if refs["pandas"].get("finished", True)
                else f">= {pandas / full:.1f}x (pandas ran out of memory)",
                pandas >= 5 * full,
            ),
        ]
    return found


def goals_table(results: list[dict]) -> str:
    lines = ["| scale | goal | measured | met |", "|---|---|---|---|"]
    for r in results:
        for goal, measured, met in goals(r):
            lines.append(
                f"| {r['scale']['name']} | {goal} | {measured} | {'yes' if met else 'no'} |"
            )
    return "\n".join(lines)


def chart(result: dict) -> str:
    """A plain SVG bar chart: seconds per measure, each bar labelled with its value."""
    bars = [
        ("DuckDB reference", result["references"]["duckdb"]["seconds"]),
        ("pandas reference", result["references"]["pandas"]["seconds"]),
        *((f"run: {name.replace('_', ' ')}", m["seconds"]) for name, m in result["runs"].items()),
    ]
    top = max(seconds for _, seconds in bars) or 1
    height = 30 * len(bars) + 40
    rows = "".join(
        f'<text x="150" y="{30 * i + 35}" text-anchor="end">{label}</text>'
        f'<rect x="160" y="{30 * i + 20}" width="{400 * s / top:.1f}" height="20" fill="#1d70b8"/>'
        f'<text x="{165 + 400 * s / top:.1f}" y="{30 * i + 35}">{s:.1f} s</text>'
        for i, (label, s) in enumerate(bars)
    )
    title = f"{result['scale']['name']}: {result['files']:,} files, {result['rows']:,} rows"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{height}" role="img" '
        f'font-family="sans-serif" font-size="12"><title>{title}</title>'
        f'<text x="10" y="14" font-weight="bold">{title}</text>{rows}</svg>\n'
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="append", choices=sorted(SCALES))
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/digital-progress-bench"))
    parser.add_argument(
        "--table", action="store_true", help="only print the table of the results in --out"
    )
    args = parser.parse_args(argv)
    if args.table:
        found = [json.loads(p.read_text()) for p in sorted(args.out.glob("*.json"))]
        found.sort(key=lambda r: r["files"])
        print(table(found) + "\n\n" + goals_table(found))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.scale or ["wales"]:
        print(f"bench {name}: generating and running (this takes a while)...", flush=True)
        result = bench(SCALES[name], args.work / name)
        (args.out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
        (args.out / f"{name}.svg").write_text(chart(result))
        results.append(result)
        print(table([result]).splitlines()[-1], flush=True)
    print(table(results) + "\n\n" + goals_table(results))


if __name__ == "__main__":
    main()
