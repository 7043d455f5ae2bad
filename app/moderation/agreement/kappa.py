"""Agreement between two graders on an ordered scale: exact agreement and weighted Cohen's kappa.

Pure functions, no session: the moderation agreement page and API feed them pairs of grades
(auditor's, moderator's) and show what comes back.

Method
------
* Exact agreement: the share of pairs where both gave the same grade.
* Weighted kappa (Cohen 1968) with quadratic (Fleiss-Cohen) agreement weights over the k ordered
  categories, w_ij = 1 - (i - j)^2 / (k - 1)^2:

      kappa_w = (P_o - P_e) / (1 - P_e),   P_o = sum_ij w_ij p_ij,   P_e = sum_ij w_ij p_i. p_.j

  Quadratic weights count a one-grade difference as a near miss and a three-grade difference as
  total disagreement; with them, kappa_w equals 2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2) over
  the category numbers (a check the tests use).
* 95% interval: kappa_w +/- 1.96 SE, with the large-sample variance of Fleiss, Cohen & Everitt (1969),
  the one SAS PROC FREQ reports as the ASE of weighted kappa:

      var = [sum_ij p_ij (w_ij - (wbar_i. + wbar_.j)(1 - kappa_w))^2 - (kappa_w - P_e (1 - kappa_w))^2]
            / (n (1 - P_e)^2),
      wbar_i. = sum_j p_.j w_ij,  wbar_.j = sum_i p_i. w_ij,

  and the interval clipped to [-1, 1]. It is an approximation for large samples: with a handful of
  pairs it is wide and only a rough guide.

Kappa is undefined when chance agreement is certain (P_e = 1): every pair in one and the same grade.
Then only exact agreement is reported, with the reason.

* Compliance answers (dip samples, `answer_agreement`): the same statistics over the unordered categories
  yes / no / not applicable with identity weights, i.e. Cohen's (1960) unweighted kappa, and the same variance.
* The refresher flag (`agreement_flag`) reads the interval, not the point estimate: "flagged" only when its upper
  bound is below the threshold, "ok" when its lower bound is at or above it, and otherwise (or with fewer pairs
  than the minimum) "not enough to tell".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal

from app.audit_templates.schema import YES_NO_NA_LABELS, Grade

Z_95 = 1.959963984540054  # the 97.5th percentile of the standard normal
GRADES: tuple[str, ...] = tuple(grade.value for grade in Grade)  # best first, the order Grade.rank counts

METHOD = (
    "Weighted kappa is Cohen's kappa with quadratic (Fleiss-Cohen) weights over the four grades; its 95% "
    "interval uses the large-sample variance of Fleiss, Cohen and Everitt (1969)."
)
NO_PAIRS = "No moderated audits yet"
ONE_CATEGORY = (
    "Kappa is undefined: every grade given by both the auditor and the moderator is the same, so "
    "agreement by chance is certain"
)

ANSWERS: tuple[str, ...] = tuple(YES_NO_NA_LABELS)  # yes, no, na: a compliance question's answers
ANSWER_METHOD = (
    "Compliance answers (dip samples) are compared question by question: Cohen's kappa without weights over Yes, "
    "No and Not applicable, with the same large-sample interval."
)
ONE_ANSWER = (
    "Kappa is undefined: every answer given by both the auditor and the moderator is the same, so agreement by "
    "chance is certain"
)

WeightScheme = Literal["quadratic", "linear", "none"]


@dataclass(frozen=True)
class Kappa:
    """A weighted kappa with its large-sample standard error and 95% interval."""

    kappa: float
    standard_error: float
    low: float
    high: float
    observed: float  # P_o, weighted observed agreement
    expected: float  # P_e, weighted agreement expected by chance


@dataclass(frozen=True)
class Agreement:
    """Agreement over n pairs; a figure is None when it cannot be worked out, and `note` says why."""

    n: int
    agreed: int
    exact_agreement: float | None
    kappa: Kappa | None
    note: str | None = None

    @property
    def weighted_kappa(self) -> float | None:
        return self.kappa.kappa if self.kappa else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return (self.kappa.low, self.kappa.high) if self.kappa else None

    @property
    def disagreed(self) -> int:
        return self.n - self.agreed

    @property
    def disagreement_rate(self) -> float | None:
        return None if self.n == 0 else self.disagreed / self.n


def agreement_weights(k: int, scheme: WeightScheme = "quadratic") -> list[list[float]]:
    """Agreement weights for k ordered categories: 1 on the diagonal, falling to 0 at the far corners."""
    if k < 1:
        raise ValueError("at least one category is needed")
    if scheme == "none" or k == 1:
        return [[1.0 if i == j else 0.0 for j in range(k)] for i in range(k)]
    power = 2 if scheme == "quadratic" else 1
    return [[1.0 - (abs(i - j) / (k - 1)) ** power for j in range(k)] for i in range(k)]


def cross_table(pairs: Iterable[tuple[str, str]], categories: Sequence[str] = GRADES) -> list[list[int]]:
    """Counts of (first rater's category, second rater's category); pairs naming another value are skipped."""
    index = {category: i for i, category in enumerate(categories)}
    table = [[0] * len(categories) for _ in categories]
    for first, second in pairs:
        i, j = index.get(first), index.get(second)
        if i is not None and j is not None:
            table[i][j] += 1
    return table


def weighted_kappa(table: Sequence[Sequence[float]], scheme: WeightScheme = "quadratic") -> Kappa | None:
    """Weighted kappa of a square table of counts (rows: one rater, columns: the other), or None when it is
    undefined (no pairs, or all of them in one and the same category)."""
    k = len(table)
    if k == 0 or any(len(row) != k for row in table):
        raise ValueError("the table must be square")
    n = float(sum(sum(row) for row in table))
    if n <= 0:
        return None
    w = agreement_weights(k, scheme)
    p = [[cell / n for cell in row] for row in table]
    rows = [sum(p[i]) for i in range(k)]
    cols = [sum(p[i][j] for i in range(k)) for j in range(k)]
    observed = sum(w[i][j] * p[i][j] for i in range(k) for j in range(k))
    expected = sum(w[i][j] * rows[i] * cols[j] for i in range(k) for j in range(k))
    if math.isclose(expected, 1.0, rel_tol=0, abs_tol=1e-12):
        return None
    kappa = (observed - expected) / (1 - expected)
    row_bar = [sum(cols[j] * w[i][j] for j in range(k)) for i in range(k)]
    col_bar = [sum(rows[i] * w[i][j] for i in range(k)) for j in range(k)]
    spread = sum(p[i][j] * (w[i][j] - (row_bar[i] + col_bar[j]) * (1 - kappa)) ** 2 for i in range(k) for j in range(k))
    variance = (spread - (kappa - expected * (1 - kappa)) ** 2) / (n * (1 - expected) ** 2)
    se = math.sqrt(max(variance, 0.0))  # rounding can take a zero variance just below zero
    return Kappa(
        kappa=kappa,
        standard_error=se,
        low=max(-1.0, kappa - Z_95 * se),
        high=min(1.0, kappa + Z_95 * se),
        observed=observed,
        expected=expected,
    )


def agreement_of(
    pairs: Iterable[tuple[str, str]], categories: Sequence[str] = GRADES, scheme: WeightScheme = "quadratic"
) -> Agreement:
    """Exact agreement and weighted kappa of (first, second) pairs of categories (grades by default)."""
    table = cross_table(pairs, categories)
    n = sum(sum(row) for row in table)
    if n == 0:
        return Agreement(n=0, agreed=0, exact_agreement=None, kappa=None, note=NO_PAIRS)
    agreed = sum(table[i][i] for i in range(len(table)))
    kappa = weighted_kappa(table, scheme)
    return Agreement(
        n=n, agreed=agreed, exact_agreement=agreed / n, kappa=kappa, note=None if kappa is not None else ONE_CATEGORY
    )


def answer_agreement(pairs: Iterable[tuple[str, str]]) -> Agreement:
    """Exact agreement and (unweighted) Cohen's kappa of (auditor's, moderator's) answers to compliance questions."""
    found = agreement_of(pairs, ANSWERS, scheme="none")
    return replace(found, note=ONE_ANSWER) if found.note == ONE_CATEGORY else found


FlagStatus = Literal["flagged", "ok", "not_enough_to_tell"]
FLAGGED: Final = "flagged"
NO_CONCERN: Final = "ok"
NOT_ENOUGH_TO_TELL: Final = "not_enough_to_tell"
FLAG_LABELS: dict[str, str] = {
    FLAGGED: "Low agreement: consider refresher training",
    NO_CONCERN: "No concern",
    NOT_ENOUGH_TO_TELL: "Not enough moderated audits to tell",
}


def agreement_flag(agreement: Agreement, *, min_pairs: int, low: float) -> FlagStatus:
    """Whether a grader's agreement is low enough to prompt refresher training, judged on the 95% interval of
    weighted kappa: flagged when even its upper bound is below `low`, no concern when its lower bound is at or
    above it, and not enough to tell when it straddles `low` or there are fewer than `min_pairs` pairs. When
    kappa is undefined (every pair the same grade) exact agreement is judged instead."""
    if agreement.n < min_pairs or agreement.exact_agreement is None:
        return NOT_ENOUGH_TO_TELL
    if agreement.kappa is None:
        return FLAGGED if agreement.exact_agreement < low else NO_CONCERN
    if agreement.kappa.high < low:
        return FLAGGED
    if agreement.kappa.low >= low:
        return NO_CONCERN
    return NOT_ENOUGH_TO_TELL
