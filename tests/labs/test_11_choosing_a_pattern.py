"""Checks for lab 11 — choosing a pattern (``solutions/11-choosing-a-pattern.ipynb``)."""

from __future__ import annotations

from localcloud.grading import Exercises
from localcloud.patterns import QUIZ, RULES, Requirements, Rule, key_of, pattern, recommend

EXERCISES = Exercises("11-choosing-a-pattern")


def requirements(ns, name: str) -> Requirements:
    value = getattr(ns, name)
    assert isinstance(value, Requirements), f"`{name}` should be a Requirements(...), got {type(value).__name__}"
    return value


# -- exercise 1 ----------------------------------------------------------------------------------
CASES = (("recipe_app", "api-backend"), ("invoice_scanner", "event-driven"), ("money_transfer", "saga"))


@EXERCISES.check(
    1,
    "classify three systems",
    hint="Each system matches one row of the decision matrix: a simple API, a file upload that triggers "
    "processing, steps that must all succeed or be undone. top_pattern: recs = recommend(needs); return "
    "recs[0].pattern if recs else None.",
    solution="Requirements(simple_api=True), Requirements(file_uploads=True), "
    "Requirements(multi_step_transactions=True); top_pattern returns recommend(needs)[0].pattern or None.",
)
def check_classify(ns):
    top = ns.top_pattern
    nothing = top(Requirements())
    assert nothing is None, f"top_pattern(Requirements()) should be None (nothing is recommended), got {nothing!r}"
    stream = top(Requirements(realtime_streams=True))
    assert isinstance(stream, str), (
        f"top_pattern should return the pattern's key as a string (such as 'fan-out'), got {type(stream).__name__}")
    assert stream == "stream-processing", (
        f"top_pattern(Requirements(realtime_streams=True)) should be 'stream-processing', got {stream!r}: "
        "return the first recommendation of recommend(needs)")
    for name, want in CASES:
        needs = requirements(ns, name)
        got = top(needs)
        assert got == want, (f"for {name} the first recommendation is {got!r} (requirements: {needs.chosen() or 'none'})"
                             " — which row of the decision matrix describes this system?")


EXERCISE_1 = """# Exercise 1
recipe_app = Requirements(simple_api=True)
invoice_scanner = Requirements(INVOICE)
money_transfer = Requirements(multi_step_transactions=True)


def top_pattern(needs):
    TOP
"""
RIGHT_TOP = "recs = recommend(needs)\n    return recs[0].pattern if recs else None"
EXERCISES.known_wrong(
    1, EXERCISE_1.replace("INVOICE", "background_work=True").replace("TOP", RIGHT_TOP),
    reason="for invoice_scanner the first recommendation is 'async-queue'",
)
EXERCISES.known_wrong(
    1, EXERCISE_1.replace("INVOICE", "file_uploads=True").replace("TOP", "return recommend(needs)[0].pattern"),
    reason="raised IndexError",
)
EXERCISES.known_wrong(
    1, EXERCISE_1.replace("INVOICE", "file_uploads=True").replace(
        "TOP", "recs = recommend(needs)\n    return recs[0] if recs else None"),
    reason="should return the pattern's key as a string",
)


# -- exercise 2 ----------------------------------------------------------------------------------
@EXERCISES.check(
    2,
    "add the missing row",
    hint="Rule('async-queue', lambda needs: needs.rate_limited_downstream, 3, 'Use for', 'rate-limited APIs', "
    "'...'); MY_RULES = RULES + (rate_limit_rule,).",
    solution="a +3 rule for 'async-queue' that fires on needs.rate_limited_downstream, quoting 'rate-limited APIs' "
    "under 'Use for'; MY_RULES = RULES + (rate_limit_rule,).",
)
def check_rule(ns):
    rule = ns.rate_limit_rule
    assert isinstance(rule, Rule), f"rate_limit_rule should be a Rule(...), got {type(rule).__name__}"
    assert rule.pattern == "async-queue", (
        f"the rule counts for {rule.pattern}: which pattern does the chapter say to use for rate-limited APIs?")
    assert rule.weight > 0, f"the rule should count for the async queue (a positive weight), got {rule.weight}"
    problems = rule.problems()
    assert not problems, problems[0] + " (see pattern('async-queue').use_for)"
    assert rule.when(Requirements(rate_limited_downstream=True)), "the rule should fire when rate_limited_downstream is True"
    for other in (Requirements(), Requirements(simple_api=True), Requirements(background_work=True)):
        assert not rule.when(other), (
            f"the rule should fire only for a rate-limited downstream, but it fired for {other.chosen() or 'no requirements'}")
    rules = tuple(ns.MY_RULES)
    missing = [r for r in RULES if r not in rules]
    assert not missing, (f"MY_RULES should keep the chapter's {len(RULES)} rules and add yours "
                         f"(RULES + (rate_limit_rule,)): {len(missing)} of them are missing")
    assert rule in rules, "MY_RULES should include rate_limit_rule"
    recs = recommend(Requirements(rate_limited_downstream=True), rules)
    assert recs and recs[0].pattern == "async-queue", "with MY_RULES a rate-limited downstream should recommend the async queue"
    for q in QUIZ:
        got = recommend(q.requirements, rules)[0].pattern
        assert got == q.answer, f"with MY_RULES, the quiz's question {q.number} is answered {got} instead of {q.answer}"


EXERCISE_2 = """# Exercise 2
rate_limit_rule = Rule(PATTERN, WHEN, 3, "Use for", QUOTE, "a downstream API limits the rate")
MY_RULES = ALL
"""


def exercise_2(pattern="'async-queue'", when="lambda needs: needs.rate_limited_downstream",
               quote="'rate-limited APIs'", rules="RULES + (rate_limit_rule,)") -> str:
    return (EXERCISE_2.replace("PATTERN", pattern).replace("WHEN", when).replace("QUOTE", quote)
            .replace("ALL", rules))


EXERCISES.known_wrong(2, exercise_2(when="lambda needs: True"), reason="but it fired for no requirements")
EXERCISES.known_wrong(2, exercise_2(pattern="'fan-out'"), reason="the rule counts for fan-out")
EXERCISES.known_wrong(2, exercise_2(quote="'rate limits'"), reason="is not the chapter's words")
EXERCISES.known_wrong(2, exercise_2(rules="(rate_limit_rule,)"), reason="MY_RULES should keep the chapter's")


# -- exercise 3 ----------------------------------------------------------------------------------
OFF_CASE = ("audit requirements", "event sourcing")  # CQRS reasons this case does not have
MIN_WORDS = 6


def quotes(reason: str, phrases: tuple[str, ...]) -> list[str]:
    return [p for p in phrases if p.lower() in reason.lower()]


@EXERCISES.check(
    3,
    "justify a pattern",
    hint="50 writes an hour against 200,000 reads a minute, with filters: read_write_ratio=1000 and "
    "complex_queries=True (a few seconds of delay is fine, so no strong consistency). Return "
    "('cqrs', [a sentence with 'High read/write ratio' or 'flexible queries'..., a sentence with "
    "'Eventual consistency' and why the case can live with it]).",
    solution="CQRS: 'High read/write ratio' (or 'complex queries', 'independent scaling'...) for it; "
    "'Eventual consistency' as the consideration — prices may lag seconds, the checkout re-reads the source of truth.",
)
def check_design(ns):
    needs = requirements(ns, "catalogue")
    recs = recommend(needs)
    assert recs, (f"recommend(catalogue) recommends nothing (requirements: {needs.chosen() or 'none'}) — "
                  "a price may lag a few seconds here: does the case need strong consistency?")
    answer = ns.justify()
    assert isinstance(answer, tuple | list) and len(answer) == 2, "justify() should return (pattern, [reason, reason])"
    chosen, reasons = answer
    try:
        key = key_of(chosen)
    except KeyError:
        raise AssertionError(f"justify() chooses {chosen!r}, which is not one of the eight patterns") from None
    assert key == "cqrs", (f"justify() chooses {pattern(key).name}: what do 50 writes an hour against 200,000 "
                           "reads a minute, filtered by size and colour, call for?")
    assert recs[0].pattern == key, (f"recommend(catalogue) puts {recs[0].name} first, not the pattern you chose: "
                                    "describe the case's reads and writes in `catalogue`")
    assert isinstance(reasons, list | tuple) and len(reasons) == 2 and all(isinstance(r, str) for r in reasons), (
        "the reasons should be a list of two strings")
    for reason in reasons:
        assert len(reason.split()) >= MIN_WORDS, (
            f"{reason!r} is a quote, not a reason: write a sentence that says how it applies to the case")
        off = quotes(reason, OFF_CASE)
        assert not off, f"the case has no {off[0]}: choose a reason that fits it"
    chosen_pattern = pattern(key)
    for_it = tuple(p for p in chosen_pattern.phrases("Decision Matrix", "Use for", "Benefits") if p not in OFF_CASE)
    against = chosen_pattern.considerations
    first, second = reasons
    pairs = [(a, b) for a, b in ((first, second), (second, first)) if quotes(a, for_it) and quotes(b, against)]
    assert any(quotes(r, for_it) for r in reasons), (
        f"one reason should quote why to choose {chosen_pattern.name}, in the chapter's words: one of "
        + ", ".join(repr(p) for p in for_it))
    assert any(quotes(r, against) for r in reasons), (
        f"one reason should quote a consideration of {chosen_pattern.name} the case lives with: one of "
        + ", ".join(repr(p) for p in against))
    assert pairs, "the two reasons should be different: one for the pattern, the other a consideration"


EXERCISE_3 = """# Exercise 3
catalogue = Requirements(NEEDS)


def justify():
    return CHOICE
"""
GOOD_REASONS = ('["High read/write ratio: thousands of reads per write, so the read model scales alone", '
                '"Eventual consistency is fine: a price may show seconds late, checkout re-reads it"]')


def exercise_3(needs="read_write_ratio=1000, complex_queries=True", choice=f"'cqrs', {GOOD_REASONS}") -> str:
    return EXERCISE_3.replace("NEEDS", needs).replace("CHOICE", choice)


EXERCISES.known_wrong(3, exercise_3(choice=f"'api-backend', {GOOD_REASONS}"), reason="justify() chooses API Backend")
EXERCISES.known_wrong(
    3, exercise_3(choice="'cqrs', ['High read/write ratio: thousands of reads for every single write', "
                         "'Flexible queries let shoppers filter by size, colour and brand']"),
    reason="one reason should quote a consideration of CQRS",
)
EXERCISES.known_wrong(3, exercise_3(choice="'cqrs', ['High read/write ratio', 'Eventual consistency']"),
                      reason="is a quote, not a reason")
EXERCISES.known_wrong(3, exercise_3(needs="read_write_ratio=1000, complex_queries=True, strong_consistency=True"),
                      reason="recommend(catalogue) recommends nothing")
