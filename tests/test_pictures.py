"""The pictures assert on what they drew: hand-built traces in, drawn data (and drawn artists) out."""

from __future__ import annotations

import importlib
import math

import pytest

from localcloud.pictures import (
    flow_graph,
    overview,
    sequence_diagram,
    sequence_figure,
    sequence_markdown,
    show,
    style,
    summary,
    timeline,
)
from localcloud.trace import Trace

# the package exports the function `summary`, which shadows the module of the same name
summary_module = importlib.import_module("localcloud.pictures.summary")

FNS = ("SendWelcomeEmail", "CreateUserProfile", "SendToAnalytics", "UpdateCRM")


def fan_out_trace() -> Trace:
    """One publish fans out to four cold subscribers; UpdateCRM fails twice and is dead-lettered."""
    t = Trace()
    t.add("call", 1.000, "client", "topic:new-user", operation="Publish")
    for i, f in enumerate(FNS):
        failed = f == "UpdateCRM"
        t.add("invoke", 1.002, "topic:new-user", f"function:{f}", function=f, environment=f"{f}/1", cold=True,
              init_ms=40.0, duration_ms=50.0 + 10 * i, end=1.002 + 0.040 + (50 + 10 * i) / 1000,
              invocation="async", memory_mb=128, outcome="error" if failed else "success",
              error="RuntimeError: CRM down" if failed else None)
    t.add("call", 1.060, "function:CreateUserProfile", "table:Users", operation="PutItem")
    t.add("retry", 1.140, "topic:new-user", "function:UpdateCRM", function="UpdateCRM", attempt=2)
    t.add("invoke", 1.200, "topic:new-user", "function:UpdateCRM", function="UpdateCRM",
          environment="UpdateCRM/1", duration_ms=60.0, end=1.260, attempt=2, outcome="error",
          invocation="async", memory_mb=128)
    t.add("throttle", 1.210, "topic:new-user", "function:UpdateCRM", function="UpdateCRM", outcome="throttled")
    t.add("dead-letter", 1.270, "function:UpdateCRM", "queue:crm-dlq", function="UpdateCRM",
          destination="queue:crm-dlq")
    return t


def text_artists(fig):
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


# -- flow graph ------------------------------------------------------------------------------------

def test_flow_nodes_have_kinds_and_columns_left_to_right():
    data = flow_graph(fan_out_trace()).data
    kinds = {n.name: n.kind for n in data.nodes}
    assert kinds == {"client": "client", "topic:new-user": "topic", **{f"function:{f}": "function" for f in FNS},
                     "table:Users": "table", "queue:crm-dlq": "queue"}
    depth = {n.name: n.depth for n in data.nodes}
    assert depth["client"] == 0 and depth["topic:new-user"] == 1
    assert {depth[f"function:{f}"] for f in FNS} == {2}
    assert depth["table:Users"] == 3 and depth["queue:crm-dlq"] == 3
    # one column, four distinct rows: the fan-out is drawn as a fan, not a pile
    ys = [data.node(f).y for f in FNS]
    assert len(set(ys)) == 4
    assert all(n.x == n.depth for n in data.nodes)


def test_flow_edges_count_deliveries_failures_retries_and_dead_letters():
    data = flow_graph(fan_out_trace()).data
    crm = data.edge("topic:new-user", "function:UpdateCRM")
    assert (crm.deliveries, crm.failures, crm.retries, crm.throttles) == (2, 2, 1, 1)
    welcome = data.edge("topic:new-user", "function:SendWelcomeEmail")
    assert (welcome.deliveries, welcome.failures, welcome.retries) == (1, 0, 0)
    assert data.edge("client", "topic:new-user").operations == ["Publish"]
    assert data.edge("CreateUserProfile", "Users").calls == 1  # name parts work too
    dlq = data.edge("function:UpdateCRM", "queue:crm-dlq")
    assert dlq.dead_letters == 1 and dlq.dlq_path
    assert data.node("queue:crm-dlq").dlq and not data.node("table:Users").dlq
    assert [e.target for e in data.failure_edges] == ["function:UpdateCRM"]
    assert [e.target for e in data.dlq_edges] == ["queue:crm-dlq"]


def test_flow_draws_failure_and_dlq_paths_highlighted():
    from matplotlib.colors import to_hex
    from matplotlib.patches import FancyArrowPatch

    graph = flow_graph(fan_out_trace())
    arrows = [p for p in graph.figure.axes[0].patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == len(graph.data.edges)
    colours = [to_hex(a.get_edgecolor()) for a in arrows]
    assert colours.count(style.FAILURE_COLOUR.lower()) == 1
    assert colours.count(style.DLQ_COLOUR.lower()) == 1
    texts = [t.get_text() for t in text_artists(graph.figure)]
    assert "crm-dlq (DLQ)" in texts
    assert any("2 failed" in t and "1 retry" in t for t in texts)
    legend = [t.get_text() for t in graph.figure.axes[0].get_legend().get_texts()]
    assert {"topic", "function", "queue", "failures", "dead-letter path"} <= set(legend)


def test_flow_of_a_filtered_trace_shows_only_that_part():
    part = fan_out_trace().filter(source="topic:new-user")
    names = {n.name for n in flow_graph(part).data.nodes}
    assert names == {"topic:new-user", *(f"function:{f}" for f in FNS)}


def test_flow_layout_terminates_on_cycles_and_handles_empty_traces():
    t = Trace()
    t.add("invoke", 0.0, "queue:jobs", "function:Worker", function="Worker", environment="Worker/1")
    t.add("call", 0.01, "function:Worker", "queue:jobs", operation="SendMessage")
    data = flow_graph(t).data
    assert {n.name for n in data.nodes} == {"queue:jobs", "function:Worker"}
    assert max(n.depth for n in data.nodes) <= 1
    empty = flow_graph(Trace())
    assert empty.data.nodes == [] and empty.data.edges == []


# -- timeline --------------------------------------------------------------------------------------

def test_timeline_one_lane_per_environment_with_init_and_run_bars():
    t = fan_out_trace()
    t.add("invoke", 1.010, "topic:new-user", "function:SendWelcomeEmail", function="SendWelcomeEmail",
          environment="SendWelcomeEmail/2", cold=True, init_ms=30.0, duration_ms=20.0, end=1.060)
    data = timeline(t).data
    assert data.lanes[:2] == ["SendWelcomeEmail · env 1", "SendWelcomeEmail · env 2"]
    assert len(data.lanes) == 5
    assert data.lanes_of("UpdateCRM") == ["UpdateCRM · env 1"]
    first = data.bars_of("SendWelcomeEmail")[0]
    assert first.start_ms == pytest.approx(2.0)
    assert first.init_ms == pytest.approx(40.0)
    assert first.handler_start_ms == pytest.approx(42.0)
    assert first.end_ms == pytest.approx(92.0)
    retry_bar = [b for b in data.bars_of("UpdateCRM") if b.attempt == 2][0]
    assert retry_bar.init_ms == 0 and retry_bar.outcome == "error"
    assert data.cold_starts == 5


def test_timeline_marks_fan_out_parallelism_retries_and_throttles():
    data = timeline(fan_out_trace()).data
    assert len(data.fan_outs) == 1
    fan = data.fan_outs[0]
    assert fan.source == "topic:new-user" and fan.at_ms == pytest.approx(0.0)
    assert len(fan.targets) == 4
    assert data.max_concurrency == 4
    kinds = sorted(m.kind for m in data.marks)
    assert kinds == ["dead-letter", "retry", "throttle"]
    throttle = [m for m in data.marks if m.kind == "throttle"][0]
    assert data.lanes[throttle.lane] == "UpdateCRM · env 1" and throttle.at_ms == pytest.approx(210.0)


def test_timeline_sequential_runs_are_not_parallel():
    t = Trace()
    for i in range(3):
        t.add("invoke", i * 0.1, "api:orders", "function:Get", function="Get", environment="Get/1",
              duration_ms=50.0, end=i * 0.1 + 0.05, invocation="sync")
    data = timeline(t).data
    assert data.max_concurrency == 1 and data.fan_outs == [] and len(data.lanes) == 1


def test_timeline_draws_hatched_init_and_outcome_colours():
    from matplotlib.colors import to_hex
    from matplotlib.patches import Rectangle

    tl = timeline(fan_out_trace())
    ax = tl.figure.axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    hatched = [b for b in bars if b.get_hatch()]
    assert len(hatched) == 4  # four cold starts
    solid = [to_hex(b.get_facecolor()) for b in bars if not b.get_hatch()]
    assert solid.count(style.OUTCOME_COLOURS["error"].lower()) == 2
    assert solid.count(style.OUTCOME_COLOURS["success"].lower()) == 3
    assert ax.get_xlabel() == "ms from first event"
    assert [t.get_text() for t in ax.get_yticklabels()] == tl.data.lanes
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"cold start", "init (module import)", "handler: error", "throttled", "fan-out"} <= legend
    cold_edges = [line for line in ax.lines if to_hex(line.get_color()) == style.INIT_COLOUR.lower()]
    assert len(cold_edges) == 4


def test_a_throttled_only_function_still_gets_a_lane():
    t = Trace()
    t.add("throttle", 0.0, "queue:jobs", "function:Busy", function="Busy", outcome="throttled")
    data = timeline(t).data
    assert data.lanes == ["Busy"] and data.marks[0].lane == 0


# -- summary ---------------------------------------------------------------------------------------

def test_summary_counts_percentiles_and_end_to_end():
    s = summary(fan_out_trace())
    assert (s.invocations, s.errors, s.timeouts, s.retries, s.throttles, s.dead_lettered, s.dropped,
            s.cold_starts) == (5, 2, 0, 1, 1, 1, 0, 4)
    # durations 50, 60, 60, 70, 80
    assert s.p50_ms == pytest.approx(60.0)
    assert s.p95_ms == pytest.approx(78.0)
    assert s.end_to_end_ms == pytest.approx(260.0)


def test_summary_cost_uses_list_prices_and_billed_duration():
    s = summary(fan_out_trace())
    billed_ms = (40 + 50) + (40 + 60) + (40 + 70) + (40 + 80) + 60
    assert s.gb_seconds == pytest.approx(128 / 1024 * billed_ms / 1000)
    assert s.request_cost_usd == pytest.approx(5 * 0.20 / 1e6)
    assert s.compute_cost_usd == pytest.approx(s.gb_seconds * 0.0000166667)
    assert s.cost_usd == pytest.approx(s.request_cost_usd + s.compute_cost_usd)
    assert summary_module.PRICE_PER_REQUEST_USD == pytest.approx(2e-7)
    assert summary_module.PRICE_SOURCE.startswith("https://aws.amazon.com/lambda/pricing")
    assert summary_module.billed_ms(0.0, 0.2) == 1 and summary_module.billed_ms(10.0, 2.1) == 13


def test_summary_table_is_stable_and_html_renders():
    a, b = summary(fan_out_trace()), summary(fan_out_trace())
    assert a.table() == b.table()
    lines = a.table().splitlines()
    assert lines[0].split() == ["invocations", "5"]
    assert any(line.startswith("dead-lettered") and line.endswith(" 1") for line in lines)
    assert "us-east-1" in lines[-1]
    html = a._repr_html_()
    assert html.count("<tr>") == len(a.rows()) and "cold starts" in html


def test_summary_of_empty_trace_is_zero():
    s = summary(Trace())
    assert s.invocations == 0 and s.p95_ms == 0.0 and s.end_to_end_ms == 0.0 and s.cost_usd == 0.0
    assert summary_module.percentile([1, 2, 3, 4], 50) == 2.5
    assert math.isclose(summary_module.percentile([10.0], 95), 10.0)


# -- sequence diagram ------------------------------------------------------------------------------

def test_sequence_diagram_is_mermaid_with_calls_errors_and_retries():
    text = sequence_diagram(fan_out_trace())
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert "    actor client as client" in lines
    assert "    participant topic_new_user as topic:new-user" in lines
    assert "    client->>topic_new_user: Publish" in lines
    assert "    topic_new_user-)function_UpdateCRM: invoke (async), cold" in lines
    assert "    function_UpdateCRM--xtopic_new_user: error: RuntimeError: CRM down" in lines
    assert "    Note over function_UpdateCRM: retry, attempt 2" in lines
    assert "    function_UpdateCRM-)queue_crm_dlq: dead-letter" in lines
    assert sequence_markdown(fan_out_trace()).startswith("```mermaid\nsequenceDiagram")


def test_sequence_diagram_limits_long_traces_and_shows_sync_replies():
    t = Trace()
    for i in range(30):
        t.add("invoke", i * 0.01, "api:orders", "function:Get", function="Get", duration_ms=3.0,
              end=i * 0.01 + 0.003, invocation="sync")
    text = sequence_diagram(t, limit=10)
    assert text.count("->>function_Get") == 5 and "function_Get-->>api_orders: ok, 3 ms" in text
    assert "50 more messages" in text


def test_sequence_figure_draws_the_same_messages():
    fig = sequence_figure(fan_out_trace())
    assert fig.data.participants[0] == "client"
    assert len(fig.data.messages) == 12
    drawn = {t.get_text() for t in text_artists(fig.figure)}
    assert "Publish" in drawn and "retry, attempt 2" in drawn


# -- readability and headless rendering -----------------------------------------------------------

def test_every_text_is_projector_size():
    pics = overview(fan_out_trace())
    for fig in (pics.flow.figure, pics.timeline.figure, sequence_figure(fan_out_trace()).figure):
        fig.canvas.draw() if hasattr(fig.canvas, "draw") else None
        small = [(t.get_text(), t.get_fontsize()) for t in text_artists(fig) if t.get_fontsize() < style.FONT_MIN]
        assert small == []


def test_pictures_render_png_and_leave_no_pyplot_figures():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    pics = overview(fan_out_trace())
    png = pics.flow._repr_png_()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and pics.timeline._repr_png_()[:4] == b"\x89PNG"
    assert plt.get_fignums() == before
    html = pics._repr_html_()
    assert html.count("<img") == 2 and "localcloud-summary" in html
    # text reprs hold counts, never timings, so stored notebook outputs do not churn
    assert repr(pics.flow) == "<FlowGraph: 8 nodes, 7 edges, 1 failing, 1 to a DLQ>"
    assert repr(pics.timeline) == "<Timeline: 4 lanes, 5 runs, 4 cold starts, 1 fan-outs>"
    assert repr(pics) == "<Overview: 5 invocations, 2 errors, 1 retries, 1 dead-lettered, 4 cold starts>"


def test_show_displays_one_overview(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    assert show(fan_out_trace()) is None
    assert len(shown) == 1 and shown[0].summary.invocations == 5


def test_retries_are_counted_from_attempts_when_no_retry_records_exist():
    t = Trace()
    for attempt in (1, 2, 3):
        t.add("invoke", attempt * 0.1, "queue:jobs", "function:W", function="W", environment="W/1",
              duration_ms=5.0, end=attempt * 0.1 + 0.005, attempt=attempt, outcome="error")
    assert flow_graph(t).data.edge("queue:jobs", "function:W").retries == 2
    assert summary(t).retries == 2
    assert [b.attempt for b in timeline(t).data.bars] == [1, 2, 3]


def test_a_function_invoking_another_counts_one_delivery_per_invocation():
    from localcloud.pictures import flow_graph
    from localcloud.trace import CALL, INVOKE, Trace

    trace = Trace()
    for i in range(3):
        trace.add(CALL, i, "function:a", "function:b", operation="Invoke", function="a")
        trace.add(INVOKE, i + 0.1, "function:a", "function:b", end=i + 0.2, function="b", environment="b/1")
    edge = flow_graph(trace).data.edge("function:a", "function:b")
    assert (edge.deliveries, edge.calls, edge.invocations) == (3, 3, 3)
