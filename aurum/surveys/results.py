"""A closed run's results: response rate, per-question aggregates, change, 12-run trend, comments, themes, flags.

Anonymity rules (README "Surveys"): nothing per question — no mean, distribution, comment or theme — unless at
least `threshold` people answered (default 5, never below 3); the change against the previous run only when
both runs reached the threshold (otherwise it would give away the hidden previous mean); the trend plots only
runs that reached it. Response counts are always shown: they say how many answered, not who or what.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlmodel import Session

from aurum.core.context import Context
from aurum.surveys.answers import RESPONSE_MARKER, fields
from aurum.surveys.model import Question, Survey
from storage import surveys as repo
from storage.surveys import SurveyRun

TREND_RUNS = 12
LOW_RESPONSE = 0.60
DROP_FLAG = 1.0
THEMES = 5
_STOPWORD_TEXT = """
a about above after again against all also am an and any are as at be been before being below between both but by
can could did do does doing down during each few for from further get gets getting got had has have having he her
here him his how i if in into is it its just lot lots made make makes many me more most much my no nor not now of
off on once only or other our out over own really same she should so some still such than that the their them then
there these they this those through to too under until up us very was we week were what when where which while who
why will with would you your nothing none everything thing things bit quite always sometimes currently keep"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class ScaleResult:
    question: Question
    count: int
    mean: float
    median: float
    distribution: list[tuple[int, int]]
    change: float | None  # against the previous run; None when unknown or hidden


@dataclass(frozen=True)
class ChoiceResult:
    question: Question
    count: int
    distribution: list[tuple[str, int]]


@dataclass(frozen=True)
class TrendPoint:
    period: str
    opens_at: datetime
    rate: float | None
    means: dict[str, float]  # question id → mean, only for runs that reached the threshold


@dataclass(frozen=True)
class Results:
    survey: Survey
    run: SurveyRun
    responses: int
    asked: int
    threshold: int
    previous: SurveyRun | None = None
    scales: list[ScaleResult] = field(default_factory=list)
    choices: list[ChoiceResult] = field(default_factory=list)
    comments: list[tuple[str, list[str]]] = field(default_factory=list)  # (question label, texts), blockers first
    themes: list[tuple[str, int]] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return self.responses >= self.threshold

    @property
    def rate(self) -> float | None:
        return self.responses / self.asked if self.asked else None


def compute(ctx: Context, session: Session, run: SurveyRun) -> Results:
    survey = ctx.config.surveys.survey(run.survey).as_asked(run.questions)
    threshold = ctx.config.surveys.threshold
    runs = repo.closed_runs_until(session, run.team_id, run.survey, run.opens_at, TREND_RUNS, squad=run.squad)
    if not runs or runs[-1].id != run.id:
        runs = [*runs, run][-TREND_RUNS:]
    ids = [r.id for r in runs if r.id is not None]  # stored runs: every one has an id
    counts = repo.response_counts(session, run.team_id, ids)
    sets = repo.answer_sets(session, run.team_id, ids)
    means = repo.means(session, run.team_id, ids)
    trend = [_trend_point(r, counts, sets, means, threshold) for r in runs]
    responses, asked = sets.get(run.id, 0), counts.get(run.id, (0, 0))[1]  # type: ignore[arg-type]
    previous = runs[-2] if len(runs) > 1 else None
    base = Results(survey, run, responses, max(asked, responses), threshold, previous=previous, trend=trend)
    if not base.shown:
        return _with_flags(base, [])
    rows = repo.answers(session, run.id)  # type: ignore[arg-type]
    by_question: dict[str, list[tuple[str, float | None]]] = {}
    for _set, qid, value, number in rows:
        if qid != RESPONSE_MARKER:
            by_question.setdefault(qid, []).append((value, number))
    before = trend[-2].means if previous is not None and len(trend) > 1 else {}
    scales = [_scale(q, by_question.get(q.id, []), before.get(q.id)) for q in survey.scales]
    choices = [_choice(q, by_question.get(q.id, [])) for q in survey.questions if q.type == "single_choice"]
    comments = _comments(survey, by_question)
    blockers = [text for q in survey.questions if q.blockers for text, _ in by_question.get(q.id, [])]
    result = Results(survey, run, responses, base.asked, threshold, previous=previous,
                     scales=[s for s in scales if s is not None], choices=choices, comments=comments,
                     themes=themes(blockers), trend=trend)
    return _with_flags(result, result.scales)


def _trend_point(run: SurveyRun, counts: dict, sets: dict, means: dict, threshold: int) -> TrendPoint:
    answered = sets.get(run.id, 0)
    asked = max(counts.get(run.id, (0, 0))[1], answered)
    shown = {qid: mean for (run_id, qid), (_n, mean) in means.items() if run_id == run.id} \
        if answered >= threshold else {}
    return TrendPoint(run.period, run.opens_at, answered / asked if asked else None, shown)


def _scale(question: Question, values: list[tuple[str, float | None]], before: float | None) -> ScaleResult | None:
    numbers = [n for _, n in values if n is not None]
    if not numbers:
        return None
    counter = Counter(int(n) for n in numbers)
    mean = statistics.fmean(numbers)
    distribution = [(v, counter.get(v, 0)) for v in range(question.min, question.max + 1)]
    change = mean - before if before is not None else None
    return ScaleResult(question, len(numbers), mean, statistics.median(numbers), distribution, change)


def _choice(question: Question, values: list[tuple[str, float | None]]) -> ChoiceResult:
    counter = Counter(v for v, _ in values)
    return ChoiceResult(question, len(values), [(o, counter.get(o, 0)) for o in question.options])


def _comments(survey: Survey, by_question: dict[str, list[tuple[str, float | None]]]) -> list[tuple[str, list[str]]]:
    texts = [f for f in fields(survey) if f.comment or f.question.type == "text"]
    texts.sort(key=lambda f: not f.question.blockers)  # blockers first, otherwise in the survey's order
    found = []
    for item in texts:
        values = [v for v, _ in by_question.get(item.answer_id, []) if v]
        if values:
            label = f"{item.question.label} — comments" if item.comment else item.question.label
            found.append((label, values))
    return found


def _with_flags(results: Results, scales: list[ScaleResult]) -> Results:
    flags = []
    for scale in scales:
        if scale.change is not None and scale.change <= -DROP_FLAG:
            flags.append(f"⚠️ *{scale.question.label}* dropped by {abs(scale.change):.1f} points since "
                         f"{results.previous.period if results.previous else 'the last run'}")
    if results.rate is not None and results.rate < LOW_RESPONSE:
        flags.append(f"⚠️ Response rate {results.rate:.0%} is below {LOW_RESPONSE:.0%}")
    return replace(results, flags=flags)


def _normal(word: str) -> str:
    return word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word


def themes(texts: list[str], limit: int = THEMES, min_count: int = 2) -> list[tuple[str, int]]:
    """The words and two-word phrases most people mention (each counted once per answer)."""
    counts: Counter[str] = Counter()
    for text in texts:
        words = [_normal(w) for w in re.findall(r"[a-z][a-z0-9+#'-]*", text.lower())]
        keep = [w if len(w) > 1 and w not in STOPWORDS else None for w in words]
        terms = {w for w in keep if w}
        terms |= {f"{a} {b}" for a, b in zip(keep, keep[1:], strict=False) if a and b}
        counts.update(terms)
    ranked = sorted(((t, c) for t, c in counts.items() if c >= min_count), key=lambda tc: (-tc[1], tc[0]))
    phrases = [(t, c) for t, c in ranked if " " in t]
    chosen = [(t, c) for t, c in ranked
              if " " in t or not any(t in p.split() and pc >= c for p, pc in phrases)]
    return chosen[:limit]
