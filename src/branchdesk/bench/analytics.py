"""`branchdesk bench analytics`: the analytics pipeline at scale, DuckDB beside pandas and Spark.

1. Generates the bench profile (``bench/analytics_data.py``: customers, accounts, ledger
   entries, tickets, ... as Parquet, deterministic by seed, in bounded chunks), or reuses it
   when the directory already holds the same profile.
2. Runs each measurement in its own child process (``python -m branchdesk.bench.analytics
   RUN ...``), one after the other, and measures the child's wall time and peak memory: the
   child's own peak resident set size (VmHWM, which it reports as it ends) and the resident
   memory of the child together with its descendants (Spark's JVM), sampled every 0.2 s:

   - ``duckdb-features``: the pipeline's SQL steps up to ``features`` on DuckDB, reading the
     Parquet files, as views (one fused query), the features written to Parquet;
   - ``pandas-features``: the same feature step in plain pandas (``bench/analytics_pandas.py``:
     merges and group-bys on the keys), and ``pandas-tuned-features``: pandas on integer codes;
   - ``duckdb-pipeline``: every SQL step of the pipeline on DuckDB as the nightly run does it
     (a temporary table per step), each output written to Parquet (the Python steps, k-means
     and the recommender, are not part of the bench);
   - ``spark-pipeline``: the same on Spark (local mode), stopped after ``--spark-timeout``.
3. Checks that every run produced the same feature values (row for row, compared in DuckDB)
   and prints the figures; ``results.json`` in the output directory keeps them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from branchdesk.analytics.config import PipelineConfig
from branchdesk.analytics.steps import INPUTS, OUTPUTS, STEPS, parameters, render

RUNS_BY_ENGINE = {
    "duckdb": ("duckdb-features", "duckdb-pipeline"),
    "pandas": ("pandas-features", "pandas-tuned-features"),
    "spark": ("spark-pipeline",),
}
FEATURE_STEPS = tuple(s.name for s in STEPS[: [s.name for s in STEPS].index("features") + 1])
GIB = 1 << 30


@dataclass
class Options:
    as_of: date
    duckdb_memory: str | None = None
    spark_master: str = "local[2]"
    spark_memory: str = "3g"
    spark_partitions: int = 8
    spark_timeout: float = 1500.0


@dataclass
class Measured:
    run: str
    status: str  # ok, timeout, failed
    process_seconds: float  # the child's wall time, interpreter start to exit
    peak_rss_bytes: int  # the child's own peak resident set size (its VmHWM)
    tree_peak_bytes: int  # the child plus its descendants (Spark's JVM): sampled every 0.2 s,
    # or the sum of their own peaks if higher
    phases: dict[str, float] = field(default_factory=dict)  # as the child reports them
    detail: str = ""
    cpu_seconds: float = 0.0  # user + system CPU of the child and its children (the JVM)

    @property
    def work_seconds(self) -> float:
        """Load, compute and write, without interpreter start-up and imports."""
        return self.phases.get("work", self.process_seconds)

    @property
    def peak_bytes(self) -> int:
        return max(self.peak_rss_bytes, self.tree_peak_bytes)


@dataclass
class Comparison:
    left: str
    right: str
    rows_left: int
    rows_right: int
    only_left: int
    only_right: int

    @property
    def identical(self) -> bool:
        return self.only_left == 0 and self.only_right == 0 and self.rows_left == self.rows_right


# --- the children -----------------------------------------------------------------------


def _paths(data: Path) -> dict[str, Path]:
    return {name: data / name for name in INPUTS}


def _child_duckdb(args: argparse.Namespace, phases: dict[str, float]) -> None:
    from branchdesk.analytics.engines import DuckDbEngine

    values = parameters(PipelineConfig(), date.fromisoformat(args.as_of))
    everything = args.run == "duckdb-pipeline"
    # the feature step alone runs as one fused query; the pipeline keeps a table per step
    engine = DuckDbEngine(memory_limit=args.duckdb_memory, lazy=not everything)
    try:
        started = time.perf_counter()
        for name, path in _paths(args.data).items():
            engine.load_parquet(name, path)
        for step in STEPS if everything else STEPS[: len(FEATURE_STEPS)]:
            engine.create(step.name, render(step, "duckdb", values))
        phases["steps"] = time.perf_counter() - started
        started = time.perf_counter()
        target = args.out / args.run
        target.mkdir(parents=True, exist_ok=True)
        for name in OUTPUTS if everything else ("features",):
            engine.write_parquet(name, target / f"{name}.parquet")
        phases["write"] = time.perf_counter() - started
    finally:
        engine.close()


def _child_pandas(args: argparse.Namespace, phases: dict[str, float]) -> None:
    from branchdesk.bench import analytics_pandas

    started = time.perf_counter()
    frames = analytics_pandas.load(_paths(args.data))
    phases["load"] = time.perf_counter() - started
    started = time.perf_counter()
    compute = (
        analytics_pandas.features_tuned
        if args.run == "pandas-tuned-features"
        else analytics_pandas.features
    )
    result = compute(frames, config=PipelineConfig(), as_of=date.fromisoformat(args.as_of))
    phases["compute"] = time.perf_counter() - started
    started = time.perf_counter()
    target = args.out / args.run
    target.mkdir(parents=True, exist_ok=True)
    analytics_pandas.write(result, target / "features.parquet")
    phases["write"] = time.perf_counter() - started


def _child_spark(args: argparse.Namespace, phases: dict[str, float]) -> None:
    from branchdesk.analytics.engines import SparkEngine

    values = parameters(PipelineConfig(), date.fromisoformat(args.as_of))
    started = time.perf_counter()
    engine = SparkEngine(
        args.spark_master,
        shuffle_partitions=args.spark_partitions,
        driver_memory=args.spark_memory,
    )
    phases["session"] = time.perf_counter() - started
    started = time.perf_counter()
    for name, path in _paths(args.data).items():
        engine.load_parquet(name, path)
    for step in STEPS:
        engine.create(step.name, render(step, "spark", values))
    target = args.out / args.run
    for name in OUTPUTS:  # Spark computes (and caches) the steps as the outputs are written
        engine.write_parquet(name, target / name)
        phases[f"to {name}"] = time.perf_counter() - started
        # progress, so that a run stopped at the time limit still tells how far it got
        sys.stdout.write(json.dumps({"progress": phases}) + "\n")
        sys.stdout.flush()
    phases["steps"] = time.perf_counter() - started


CHILDREN: dict[str, Callable[[argparse.Namespace, dict[str, float]], None]] = {
    "duckdb-features": _child_duckdb,
    "duckdb-pipeline": _child_duckdb,
    "pandas-features": _child_pandas,
    "pandas-tuned-features": _child_pandas,
    "spark-pipeline": _child_spark,
}


def child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m branchdesk.bench.analytics")
    parser.add_argument("run", choices=sorted(CHILDREN))
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--duckdb-memory", default=None)
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--spark-memory", default="3g")
    parser.add_argument("--spark-partitions", type=int, default=8)
    args = parser.parse_args(argv)
    phases: dict[str, float] = {}
    CHILDREN[args.run](args, phases)
    # the timed phases (imports excluded); "to ..." are Spark's cumulative marks inside "steps"
    phases["work"] = sum(v for k, v in phases.items() if not k.startswith("to "))
    # peak resident memory (VmHWM) of this process and of its children still alive (the JVM)
    own, *others = _descendants(os.getpid())
    peaks = {"self": _status_kib(own, "VmHWM"), "descendants": sum(_status_kib(p, "VmHWM")
             for p in others)}  # fmt: skip
    # CPU of the children still running (the JVM), which wait4 in the parent cannot see
    cpu = sum(_cpu_seconds(p) for p in others)
    report = {"phases": phases, "peak_kib": peaks, "descendants_cpu_seconds": cpu}
    sys.stdout.write(json.dumps(report) + "\n")
    sys.stdout.flush()


# --- measuring a child ------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack.extend(int(p) for p in handle.read().split())
        except OSError:
            continue
    return found


def _status_kib(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(f"{key}:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_rss(pid: int) -> int:
    return sum(_status_kib(member, "VmRSS") for member in _descendants(pid)) * 1024


def measure(run: str, *, data: Path, out: Path, options: Options, timeout: float) -> Measured:
    """Run one measurement in a child process; wall time and peak memory from outside."""
    command = [
        sys.executable, "-m", "branchdesk.bench.analytics", run, "--data", str(data),
        "--out", str(out), "--as-of", options.as_of.isoformat(),
        "--spark-master", options.spark_master, "--spark-memory", options.spark_memory,
        "--spark-partitions", str(options.spark_partitions),
    ]  # fmt: skip
    if options.duckdb_memory:
        command += ["--duckdb-memory", options.duckdb_memory]
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / f"{run}.log"
    started = time.perf_counter()
    with log_path.open("w") as log:
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)  # fmt: skip
        tree_peak = 0
        timed_out = False
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            tree_peak = max(tree_peak, _tree_rss(child.pid))
            if not timed_out and time.perf_counter() - started > timeout:
                timed_out = True
                os.killpg(child.pid, signal.SIGKILL)  # the child's own group (and its JVM)
            time.sleep(0.2)
        child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    # ru_maxrss would also count the parent's memory at the fork (kept across exec), so the
    # child reports its own VmHWM; ru_maxrss is the fallback when it could not
    peak = usage.ru_maxrss * 1024
    text = log_path.read_text(errors="replace")
    phases: dict[str, float] = {}
    descendants_cpu = 0.0
    for line in reversed(text.splitlines()):
        if line.startswith('{"progress"') and not phases:
            phases = json.loads(line)["progress"]
        if line.startswith('{"phases"'):
            reported = json.loads(line)
            phases = reported["phases"]
            peak = reported["peak_kib"]["self"] * 1024
            tree_peak = max(tree_peak, peak + reported["peak_kib"]["descendants"] * 1024)
            descendants_cpu = reported["descendants_cpu_seconds"]
            break
    cpu = usage.ru_utime + usage.ru_stime + descendants_cpu
    if timed_out:
        return Measured(run, "timeout", seconds, peak, tree_peak, phases,
                        f"stopped after {timeout:.0f} s", cpu)  # fmt: skip
    if child.returncode != 0 or not phases:
        tail = " | ".join(text.strip().splitlines()[-3:])
        return Measured(run, "failed", seconds, peak, tree_peak, phases,
                        f"exit {child.returncode}: {tail}", cpu)  # fmt: skip
    return Measured(run, "ok", seconds, peak, tree_peak, phases, "", cpu)


# --- comparing the features ---------------------------------------------------------------


def _source(path: Path) -> str:
    if path.is_dir():
        path = path / "*.parquet"
    return str(path).replace("'", "''")


def compare(left: Path, right: Path, *, left_name: str, right_name: str) -> Comparison:
    """Rows of ``left`` missing from ``right`` and the reverse (duplicates counted)."""
    connection = duckdb.connect()
    try:
        columns = connection.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{_source(left)}')"
        ).fetchall()
        wanted = ", ".join(
            f"CAST({name} AS {'BIGINT' if kind == 'HUGEINT' else kind}) AS {name}"
            for name, kind, *_ in columns
        )
        a = f"SELECT {wanted} FROM read_parquet('{_source(left)}')"
        b = f"SELECT {wanted} FROM read_parquet('{_source(right)}')"

        def count(sql: str) -> int:
            row = connection.execute(f"SELECT COUNT(*) FROM ({sql})").fetchone()
            return int(row[0]) if row else 0

        return Comparison(
            left_name, right_name, count(a), count(b),
            count(f"{a} EXCEPT ALL {b}"), count(f"{b} EXCEPT ALL {a}"),
        )  # fmt: skip
    finally:
        connection.close()


def features_path(out: Path, run: str) -> Path:
    base = out / run
    return base / "features" if run == "spark-pipeline" else base / "features.parquet"


# --- the whole bench ------------------------------------------------------------------------


@dataclass
class BenchResult:
    customers: int
    transactions: int
    seed: int
    as_of: str
    rows: dict[str, int]
    generate_seconds: float
    data_reused: bool
    data_bytes: int
    runs: list[Measured]
    comparisons: list[Comparison]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    machine: str

    def run(self, name: str) -> Measured | None:
        return next((m for m in self.runs if m.run == name and m.status == "ok"), None)

    def ratio_to(
        self, pandas_run: str, duck_run: str = "duckdb-features", *, cpu: bool = False
    ) -> float | None:
        """A DuckDB run's time over a pandas run's (work time, or CPU time of the processes)."""
        duck, pandas = self.run(duck_run), self.run(pandas_run)
        if duck is None or pandas is None:
            return None
        if cpu:
            return duck.cpu_seconds / pandas.cpu_seconds if pandas.cpu_seconds else None
        return duck.work_seconds / pandas.work_seconds if pandas.work_seconds else None

    @property
    def ratio(self) -> float | None:
        return self.ratio_to("pandas-features")

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["ratio_duckdb_to_pandas"] = self.ratio
        values["ratio_duckdb_to_pandas_tuned"] = self.ratio_to("pandas-tuned-features")
        return values


def _du(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*.parquet"))


def _versions() -> str:
    import numpy
    import pandas

    parts = [f"Python {platform.python_version()}", f"DuckDB {duckdb.__version__}",
             f"pandas {pandas.__version__}", f"NumPy {numpy.__version__}"]  # fmt: skip
    try:
        import pyspark

        parts.append(f"PySpark {pyspark.__version__}")
    except ImportError:  # pragma: no cover - pyspark is a dev dependency
        pass
    return f"{os.cpu_count()} cores, " + ", ".join(parts)


def run_bench(
    *,
    customers: int,
    transactions: int,
    engines: list[str],
    out_dir: Path,
    seed: int,
    options: Options,
    chunk_customers: int = 50_000,
    echo: Callable[[str], None] = print,
) -> BenchResult:
    from branchdesk.bench.analytics_data import Profile, generate

    unknown = [e for e in engines if e not in RUNS_BY_ENGINE]
    if unknown:
        raise ValueError(f"unknown engine {unknown[0]!r} (duckdb, pandas or spark)")
    load_before = os.getloadavg()
    profile = Profile(customers, transactions, seed, options.as_of, chunk_customers)
    data = out_dir / "data"
    echo(f"bench profile: {customers:,} customers, {transactions:,} transactions, seed {seed}")
    generated = generate(profile, data)
    how = "reused" if generated.reused else f"generated in {generated.seconds:.1f} s"
    echo(f"  {how}: " + ", ".join(f"{n:,} {t}" for t, n in generated.rows.items()))
    results = out_dir / "results"
    runs: list[Measured] = []
    for engine in engines:
        for run in RUNS_BY_ENGINE[engine]:
            timeout = options.spark_timeout if engine == "spark" else 6 * 3600.0
            echo(f"  running {run} ...")
            measured = measure(run, data=data, out=results, options=options, timeout=timeout)
            runs.append(measured)
            echo(f"    {describe(measured)}")
    comparisons = []
    done = [m.run for m in runs if m.status == "ok"]
    reference = next((r for r in ("duckdb-features", "duckdb-pipeline") if r in done), None)
    for other in done:
        if reference is not None and other != reference:
            left, right = features_path(results, reference), features_path(results, other)
            comparisons.append(compare(left, right, left_name=reference, right_name=other))
    return BenchResult(
        customers=customers, transactions=transactions, seed=seed,
        as_of=options.as_of.isoformat(), rows=generated.rows,
        generate_seconds=generated.seconds, data_reused=generated.reused,
        data_bytes=_du(data), runs=runs, comparisons=comparisons,
        load_before=load_before, load_after=os.getloadavg(), machine=_versions(),
    )  # fmt: skip


def describe(m: Measured) -> str:
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in m.phases.items() if k != "work")
    text = (
        f"{m.run}: {m.status}, work {m.work_seconds:.1f} s (process {m.process_seconds:.1f} s, "
        f"CPU {m.cpu_seconds:.1f} s), "
        f"peak RSS {m.peak_rss_bytes / GIB:.2f} GiB (with descendants {m.tree_peak_bytes / GIB:.2f}"
        f" GiB){'; ' + phases if phases else ''}"
    )
    return text + (f" [{m.detail}]" if m.detail else "")


def report(result: BenchResult) -> str:
    """The figures as markdown (what BENCHMARKS.md shows)."""
    lines = [
        f"Bench profile: {result.customers:,} customers, {result.transactions:,} ledger entries "
        f"(seed {result.seed}, as of {result.as_of}); "
        + ", ".join(
            f"{n:,} {t}" for t, n in result.rows.items() if t not in ("fx_rates", "earning_rules")
        )
        + f"; {result.data_bytes / GIB:.2f} GiB of Parquet"
        + (" (reused)" if result.data_reused else f", generated in {result.generate_seconds:.0f} s")
        + ".",
        f"Machine: {result.machine}; load average {result.load_before[0]:.2f} before, "
        f"{result.load_after[0]:.2f} after.",
        "",
        "| run | status | work (s) | process (s) | CPU (s) | peak RSS (GiB) | phases (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in result.runs:
        phases = ", ".join(f"{k} {v:.1f}" for k, v in m.phases.items() if k != "work")
        peak = f"{m.peak_rss_bytes / GIB:.2f}"
        if m.tree_peak_bytes > m.peak_rss_bytes * 1.05:
            peak += f" (with JVM {m.tree_peak_bytes / GIB:.2f})"
        status = m.status + (f": {m.detail}" if m.detail else "")
        lines.append(
            f"| {m.run} | {status} | {m.work_seconds:.1f} | {m.process_seconds:.1f} "
            f"| {m.cpu_seconds:.1f} | {peak} "
            f"| {phases} |"
        )
    lines.append("")
    if result.ratio is not None:
        verdict = "meets" if result.ratio <= 0.3 else "misses"
        lines.append(f"DuckDB / plain pandas feature step (work time): {result.ratio:.3f} "
                     f"({verdict} the target of at most 0.3).")  # fmt: skip
    others = (
        ("DuckDB / plain pandas, CPU time of the processes", "pandas-features",
         "duckdb-features", True),
        ("DuckDB / pandas on integer codes", "pandas-tuned-features", "duckdb-features", False),
        ("DuckDB / pandas on integer codes, CPU time", "pandas-tuned-features",
         "duckdb-features", True),
        ("DuckDB whole SQL pipeline (a table per step) / plain pandas feature step",
         "pandas-features", "duckdb-pipeline", False),
    )  # fmt: skip
    for label, pandas_run, duck_run, cpu in others:
        value = result.ratio_to(pandas_run, duck_run, cpu=cpu)
        if value is not None:
            lines.append(f"{label}: {value:.3f}.")
    peaks = [(m.run, m.peak_bytes) for m in result.runs if m.run.startswith("duckdb")]
    if peaks:
        run, top = max(peaks, key=lambda p: p[1])
        verdict = "under" if top < 4 * GIB else "over"
        lines.append(f"DuckDB peak memory: {top / GIB:.2f} GiB ({run}; {verdict} 4 GiB).")
    for c in result.comparisons:
        state = "identical" if c.identical else "DIFFERENT"
        lines.append(
            f"Features {c.left} vs {c.right}: {state} ({c.rows_left:,} vs {c.rows_right:,} rows; "
            f"{c.only_left:,} only in {c.left}, {c.only_right:,} only in {c.right})."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    child_main(sys.argv[1:])
