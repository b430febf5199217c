"""`python -m localcloud.demo PATTERN`: run one pattern headless, print what happened, save pictures.

For a presenter before class (or a CI smoke test): the pattern's scenario runs on a fresh in-process
cloud, the event log and the summary go to stdout, and the flow graph and timeline are written as
PNGs to ``demo-output/<pattern>-flow.png`` and ``-timeline.png``. matplotlib is imported only once
the run is over, and draws with Agg, so it works on a machine with no display.

    python -m localcloud.demo fan-out --set subscribers=6 --set failure_rate=0.3
    python -m localcloud.demo --list
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from localcloud.trace import DEAD_LETTER, INVOKE, Record, Trace

__all__ = ["event_log", "main", "run_pattern"]


def _describe(r: Record, t0: float) -> str:
    at = f"{(r.start - t0) * 1000:8.1f} ms"
    line = f"{at}  {r.kind:<11} {r.source} → {r.destination or r.target if r.kind == DEAD_LETTER else r.target}"
    if r.kind == INVOKE:
        env = f" on {r.environment}" if r.environment else ""
        cold = f", cold start {r.init_ms:.0f} ms" if r.cold else ""
        batch = f", batch of {r.batch_size}" if r.batch_size > 1 else ""
        attempt = f", attempt {r.attempt}" if r.attempt > 1 else ""
        line += f"  {r.outcome} in {r.duration_ms:.0f} ms{env}{cold}{batch}{attempt}"
        if r.error:
            line += f"  [{r.error}]"
    elif r.operation:
        line += f"  {r.operation}"
    elif r.attempt > 1:
        line += f"  attempt {r.attempt}"
    return line


def event_log(trace: Trace) -> str:
    """One line per record, in time order, with times in ms from the first record."""
    records = sorted(trace.records, key=lambda r: (r.start, r.seq))
    if not records:
        return "(no events)"
    t0 = records[0].start
    return "\n".join(_describe(r, t0) for r in records)


def _parse_sets(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--set wants name=value, got {pair!r}")
        values[name.strip()] = value.strip()
    return values


def _typed(value: str) -> object:
    low = value.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    return float(value) if any(c in value for c in ".eE") else int(value)


def run_pattern(pattern: str, out_dir: str | Path = "demo-output", **knobs: object) -> dict[str, object]:
    """Run a scenario on a fresh cloud and save its pictures; returns trace, summary and paths."""
    from localcloud.demo.scenarios import get

    scenario = get(pattern)
    values = scenario.values(**knobs)
    from localcloud import Cloud

    cloud = Cloud()
    try:
        trace = Trace(scenario.run(cloud, **values).records)
    finally:
        close = getattr(cloud, "close", None)
        if close is not None:
            close()
    from localcloud.pictures import flow_graph, summary, timeline

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    flow_path, timeline_path = out / f"{scenario.name}-flow.png", out / f"{scenario.name}-timeline.png"
    flow_graph(trace, title=f"{scenario.title}").save(flow_path)
    timeline(trace).save(timeline_path)
    return {"scenario": scenario, "values": values, "trace": trace, "summary": summary(trace),
            "flow": flow_path, "timeline": timeline_path}


def main(argv: list[str] | None = None) -> int:
    from localcloud.demo.scenarios import SCENARIOS, names

    parser = argparse.ArgumentParser(prog="python -m localcloud.demo", description=__doc__.splitlines()[0])
    parser.add_argument("pattern", nargs="?", help=f"one of: {', '.join(names())}")
    parser.add_argument("--out", default="demo-output", help="folder for the PNGs (default: demo-output)")
    parser.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE",
                        help="turn a knob, e.g. --set failure_rate=0.3 (repeatable)")
    parser.add_argument("--list", action="store_true", help="list patterns and their knobs")
    args = parser.parse_args(argv)

    if args.list or not args.pattern:
        for name in names():
            s = SCENARIOS[name]
            knobs = ", ".join(f"{k.name}={k.default}" for k in s.knobs)
            print(f"{name:<12} {s.title}\n{'':<12} knobs: {knobs}")
        return 0 if args.list else 2
    key = args.pattern.strip().lower().replace("_", "-")
    if key not in SCENARIOS:
        print(f"unknown pattern {args.pattern!r}. Known patterns: {', '.join(names())}", file=sys.stderr)
        return 2
    try:
        knobs = {k: _typed(v) for k, v in _parse_sets(args.set).items()}
        started = time.perf_counter()
        result = run_pattern(key, args.out, **knobs)
    except (KeyError, ValueError) as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    scenario = result["scenario"]
    print(f"== {scenario.title}")
    print("   knobs: " + ", ".join(f"{k}={v}" for k, v in result["values"].items()))
    print("\n== event log")
    print(event_log(result["trace"]))
    print("\n== summary")
    print(result["summary"].table())
    print("\n== pictures")
    print(f"   flow graph: {result['flow']}")
    print(f"   timeline:   {result['timeline']}")
    print(f"   (run and drawn in {elapsed:.2f} s)")
    return 0
