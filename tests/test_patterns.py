"""The decision matrix as data and the recommender (localcloud/patterns.py, lesson 11)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from localcloud import patterns
from localcloud.demo.scenarios import names as scenario_names
from localcloud.patterns import (
    LESSONS,
    MATRIX,
    PATTERNS,
    QUIZ,
    RULES,
    Chooser,
    Requirements,
    Rule,
    grade_quiz,
    key_of,
    pattern,
    recommend,
    report,
)

ROOT = Path(patterns.__file__).resolve().parents[1]


def test_the_chapter_parses_into_eight_patterns_and_eight_matrix_rows():
    assert [p.key for p in PATTERNS] == list(LESSONS)
    assert list(MATRIX.values()) == list(LESSONS), "one matrix row per pattern, in the chapter's order"
    assert pattern("Stream Processing").use_for == ("Real-time analytics", "IoT data", "log processing",
                                                    "clickstream analysis")
    assert pattern("api").considerations == (
        "Cold starts may affect latency (use provisioned concurrency for critical paths)",)
    assert pattern("async-queue").considerations == ("Eventual processing", "message ordering (FIFO queues available)")
    assert [p.name for p in PATTERNS] == ["API Backend", "Event-Driven", "Stream Processing", "Microservices",
                                          "Async Queue", "CQRS", "Fan-Out", "Saga"]
    for p in PATTERNS:
        for phrase in p.phrases():
            assert patterns.quoted(phrase), phrase


def test_every_pattern_has_a_lesson_and_a_demo_scenario():
    for p in PATTERNS:
        assert (ROOT / p.lesson).exists(), f"{p.lesson} is missing"
        assert p.key in scenario_names(), f"no demo scenario named {p.key}"


def test_every_rule_quotes_the_chapter_under_the_source_it_names():
    for rule in RULES:
        assert rule.problems() == [], rule
    assert {r.pattern for r in RULES if r.source == "Decision Matrix"} == set(LESSONS)


@pytest.mark.parametrize("spelling, key", [("Event-Driven Processing", "event-driven"), ("fan_out", "fan-out"),
                                           ("Async Queue Pattern", "async-queue"), ("CQRS", "cqrs"),
                                           ("stream", "stream-processing")])
def test_pattern_names_in_any_spelling(spelling, key):
    assert key_of(spelling) == key


def test_unknown_pattern_and_requirement_are_clear_errors():
    with pytest.raises(KeyError, match="unknown pattern 'monolith'"):
        key_of("monolith")
    with pytest.raises(KeyError, match="unknown requirement realtime"):
        recommend({"realtime": True})
    with pytest.raises(ValueError, match="teams"):
        Requirements(teams=0)
    with pytest.raises(ValueError, match="weight"):
        Rule("saga", lambda r: True, 0, "Use for", "compensating actions")
    with pytest.raises(ValueError, match="source"):
        Rule("saga", lambda r: True, 1, "Chapter", "compensating actions")


def test_each_matrix_row_alone_recommends_its_pattern():
    rows = {
        "api-backend": Requirements(simple_api=True),
        "event-driven": Requirements(file_uploads=True),
        "stream-processing": Requirements(realtime_streams=True),
        "microservices": Requirements(teams=4),
        "async-queue": Requirements(background_work=True),
        "cqrs": Requirements(read_write_ratio=100),
        "fan-out": Requirements(multiple_downstream_actions=True),
        "saga": Requirements(multi_step_transactions=True),
    }
    for key, needs in rows.items():
        recs = recommend(needs)
        assert [r.pattern for r in recs] == [key]
        assert recs[0].reasons[0].source == "Decision Matrix"
        assert recs[0].lesson == LESSONS[key]


def test_no_requirement_recommends_nothing_and_a_gap_in_the_matrix_shows():
    assert recommend(Requirements()) == []
    assert recommend(Requirements(rate_limited_downstream=True)) == [], "the chapter's matrix has no such row"
    assert report([]).startswith("no pattern recommended")


def test_considerations_count_against_a_pattern():
    eventual = recommend(Requirements(read_write_ratio=1000))
    assert eventual[0].pattern == "cqrs" and eventual[0].score == 3
    assert recommend(Requirements(read_write_ratio=1000, complex_queries=True, audit_trail=True,
                                  strong_consistency=True)) == [], "the chapter's 'avoid' outweighs 3 + 2 + 2"
    both = recommend(Requirements(multiple_downstream_actions=True, background_work=True, ordering=True))
    assert [(r.pattern, r.score) for r in both] == [("stream-processing", 2), ("async-queue", 2), ("fan-out", 1)]
    assert [str(r) for r in both[2].reasons] == [
        "+3  one event, several independent reactions — Decision Matrix: “Multiple downstream actions”",
        "-2  order matters — Considerations: “No guaranteed ordering”",
    ]


def test_a_rule_extends_the_matrix():
    rule = Rule("Async Queue", lambda r: r.rate_limited_downstream, 3, "Use for", "rate-limited APIs",
                "a downstream API limits the request rate")
    assert rule.pattern == "async-queue" and rule.problems() == []
    recs = recommend(Requirements(rate_limited_downstream=True), RULES + (rule,))
    assert [r.pattern for r in recs] == ["async-queue"]
    wrong = Rule("fan-out", lambda r: True, 3, "Use for", "rate-limited APIs")
    assert wrong.problems() == ["the chapter does not list 'rate-limited APIs' under Use for for Fan-Out"]
    made_up = Rule("async-queue", lambda r: True, 3, "Use for", "rate limits")
    assert made_up.problems() == ["the quote 'rate limits' is not the chapter's words"]


def test_report_is_stable_text():
    text = report(recommend({"realtime_streams": True, "ordering": True, "latency_sensitive": True}))
    assert text.splitlines() == [
        "1. Stream Processing (score 4) → notebooks/03-stream-processing.ipynb",
        "     +3  records arrive as a continuous stream — Decision Matrix: “Real-time data streams”",
        "     +2  order matters — Benefits: “ordered records”",
        "     -1  a user waits, and batches add delay — Considerations: “Batch size tuning needed”",
        "     plan for: Batch size tuning needed, error handling affects entire batch",
    ]


@pytest.mark.parametrize("question", QUIZ, ids=[f"q{q.number}" for q in QUIZ])
def test_the_recommender_agrees_with_every_quiz_answer(question):
    assert recommend(question.requirements)[0].pattern == question.answer
    for quote in re.findall(r"“(.+?)”", question.explanation):
        assert patterns.quoted(quote), f"question {question.number} quotes {quote!r}, not the chapter's words"


def test_quiz_has_8_to_10_questions_numbered_in_order():
    assert 8 <= len(QUIZ) <= 10
    assert [q.number for q in QUIZ] == list(range(1, len(QUIZ) + 1))


def test_grading_the_quiz():
    result = grade_quiz({1: "Stream Processing", 2: "cqrs", 3: "serverless", 4: None})
    assert (result.correct, result.answered) == (1, 3)
    lines = str(result).splitlines()
    assert lines[0] == f"1 of {len(QUIZ)} right ({len(QUIZ) - 3} not answered yet)"
    assert lines[1].startswith("✓ 1. Stream Processing.")
    assert lines[2].startswith("✗ 2. not CQRS: API Backend.")
    assert lines[3].startswith("✗ 3. 'serverless' is not one of the patterns")
    assert lines[4] == "  4. not answered"
    perfect = grade_quiz({q.number: q.answer for q in QUIZ})
    assert str(perfect).splitlines()[0] == f"{len(QUIZ)} of {len(QUIZ)} right"


def test_the_chooser_displays_what_recommend_returns():
    chooser = Chooser(lesson_base="")
    assert "No pattern recommended" in chooser.result.value
    chooser.set(realtime_streams=True, ordering=True)
    assert chooser.requirements() == Requirements(realtime_streams=True, ordering=True)
    assert [r.pattern for r in chooser.recommendations] == ["stream-processing"]
    assert "href='03-stream-processing.ipynb'" in chooser.result.value
    assert "“ordered records”" in chooser.result.value
    chooser.set(read_write_ratio=1000, teams=3)
    assert [r.pattern for r in chooser.recommendations] == ["stream-processing", "microservices", "cqrs"]
