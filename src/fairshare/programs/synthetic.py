"""The one seeded generator of synthetic data (demo, tests, benchmarks).

Everything here is SYNTHETIC: a made-up urban district shaped like the ones the
project serves (about 40 schools and 20,000 pupils; elementary, K-8, middle and
high schools; some magnets; need concentrated in some schools). The same seed
always gives the same rows, on every machine. Generation is vectorised, so the
benchmark's million-entity tables take seconds.
"""

from __future__ import annotations

import numpy as np
import polars as pl

__all__ = ["FLAG_COLUMNS", "GRADE_COLUMNS", "synthetic_schools", "synthetic_students"]

GRADE_COLUMNS = ["grade_k", *[f"grade_{g:02d}" for g in range(1, 13)]]
#: per-pupil flags on student rows; counted per school under the same names
FLAG_COLUMNS = ["english_learners", "students_with_disabilities", "low_income", "chronically_absent", "high_need"]

_TYPES = np.array(["elementary", "k8", "middle", "high"], dtype=object)
#: grade span (first, last index into GRADE_COLUMNS) and mean pupils per grade, per type
_SPAN = {"elementary": (0, 5, 68), "k8": (0, 8, 55), "middle": (6, 8, 150), "high": (9, 12, 210)}
_NAMES = [
    "Annie Fisher",
    "Batchelder",
    "Betances",
    "Bulkeley",
    "Burns",
    "Burr",
    "Capital",
    "Clark",
    "Classical",
    "Dwight",
    "Environmental Sciences",
    "Expeditionary",
    "Global Communications",
    "Hooker",
    "Journalism",
    "Kennelly",
    "Kinsella",
    "Lincoln",
    "Maria Sanchez",
    "Martin Luther King",
    "McDonough",
    "Moylan",
    "Naylor",
    "Parkville",
    "Pathways",
    "Rawson",
    "Sanchez",
    "Simpson-Waverly",
    "Sport and Medical Sciences",
    "Thirman Milner",
    "Tinker",
    "Twain",
    "Weaver",
    "Webster",
    "West Middle",
    "Wilson",
    "Wish",
    "Parker",
    "Douglass",
    "Hurston",
    "Mendes",
    "Quirk",
    "Rivera",
    "Vance",
]
_SUFFIX = {
    "elementary": "Elementary School",
    "k8": "Community School",
    "middle": "Middle School",
    "high": "High School",
}


def synthetic_schools(n: int = 40, seed: int = 2026) -> pl.DataFrame:
    """A school table in the demo formula's contract.

    Ids, names, types, magnet flags, grade counts, need counts and last year's budget."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice(_TYPES, size=n, p=[0.55, 0.15, 0.15, 0.15])
    grades = np.zeros((n, len(GRADE_COLUMNS)), dtype=np.int64)
    size = rng.lognormal(0.0, 0.25, n)
    for kind, (lo, hi, mean) in _SPAN.items():
        rows = np.flatnonzero(kinds == kind)
        if rows.size:
            per_grade = rng.poisson(mean * size[rows, None], (rows.size, hi - lo + 1))
            grades[rows, lo : hi + 1] = per_grade
    enrollment = grades.sum(axis=1)
    # need: a latent neighbourhood poverty level drives correlated shares
    need = rng.beta(2.2, 1.6, n)
    low_income = rng.binomial(enrollment, np.clip(0.25 + 0.65 * need, 0, 0.97))
    el = rng.binomial(enrollment, np.clip(0.04 + 0.30 * need * rng.uniform(0.3, 1.2, n), 0, 0.6))
    swd = rng.binomial(enrollment, np.clip(rng.normal(0.16, 0.03, n), 0.05, 0.3))
    chronic = rng.binomial(enrollment, np.clip(0.08 + 0.35 * need * rng.uniform(0.5, 1.3, n), 0, 0.7))
    # unduplicated high need: at least the largest subgroup, at most everyone
    union_guess = low_income + (el + swd) * (1 - np.clip(0.25 + 0.65 * need, 0, 0.97)) * 0.8
    high_need = np.clip(np.round(union_guess).astype(np.int64), np.maximum.reduce([low_income, el, swd]), enrollment)
    magnet = (rng.random(n) < 0.2) & (kinds != "k8")
    per_pupil_last_year = (8000 + 1900 * need) * rng.normal(1.0, 0.035, n)
    prior = np.round(enrollment * per_pupil_last_year, -2)
    prior_text = np.where(rng.random(n) < 0.05, None, prior)  # a few new schools have no prior budget
    ids = np.char.add("S", np.char.zfill(np.arange(1, n + 1).astype(str), 3 if n < 1000 else 7))
    base_names = np.array(_NAMES, dtype=object)[np.arange(n) % len(_NAMES)]
    names = (
        [
            f"{b} {_SUFFIX[k]}" + (f" {i // len(_NAMES) + 1}" if i >= len(_NAMES) else "")
            for i, (b, k) in enumerate(zip(base_names, kinds, strict=True))
        ]
        if n <= 100_000
        else list(np.char.add("School ", ids.astype(str)))
    )
    cols: dict[str, object] = {
        "school_id": ids.astype(str),
        "school_name": names,
        "school_type": kinds.astype(str),
        "magnet": magnet,
        "enrollment": enrollment,
    }
    cols.update({g: grades[:, k] for k, g in enumerate(GRADE_COLUMNS)})
    cols.update(
        {
            "english_learners": el,
            "students_with_disabilities": swd,
            "low_income": low_income,
            "chronically_absent": chronic,
            "high_need": high_need,
            "prior_year_total": pl.Series(list(prior_text), dtype=pl.Float64),
        }
    )
    return pl.DataFrame(cols)


def synthetic_students(schools: pl.DataFrame, seed: int = 2026) -> pl.DataFrame:
    """One row per pupil, consistent with each school's grade and need counts."""
    rng = np.random.default_rng(seed + 1)
    ids = schools["school_id"].to_numpy()
    grades = schools.select(GRADE_COLUMNS).to_numpy()
    grade_labels = np.array(["K", *[str(g) for g in range(1, 13)]], dtype=object)
    counts = grades.ravel()
    school_idx = np.repeat(np.repeat(np.arange(len(ids)), grades.shape[1]), counts)
    grade_idx = np.repeat(np.tile(np.arange(grades.shape[1]), len(ids)), counts)
    n = len(school_idx)
    enrollment = grades.sum(axis=1)
    flags: dict[str, np.ndarray] = {}
    # pick exactly the school's count of pupils for each flag, at random within the school
    order_key = rng.random((len(FLAG_COLUMNS), n))
    starts = np.r_[0, np.cumsum(enrollment)[:-1]]
    pos_in_school = np.arange(n) - np.repeat(starts, enrollment)
    for k, flag in enumerate(FLAG_COLUMNS):
        if flag == "high_need":
            continue
        want = schools[flag].to_numpy()
        # rank pupils inside each school by a random key; the first `want` get the flag
        order = np.lexsort((order_key[k], school_idx))
        rank_in_school = np.empty(n, dtype=np.int64)
        rank_in_school[order] = pos_in_school
        flags[flag] = rank_in_school < want[school_idx]
    union = flags["english_learners"] | flags["students_with_disabilities"] | flags["low_income"]
    flags["high_need"] = union
    student_ids = np.char.add("P", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    perm = rng.permutation(n)
    return pl.DataFrame(
        {
            "student_id": student_ids.astype(str),
            "school_id": ids[school_idx][perm].astype(str),
            "grade": grade_labels[grade_idx][perm].astype(str),
            **{f: v[perm] for f, v in flags.items()},
        }
    ).select(["student_id", "school_id", "grade", *FLAG_COLUMNS])
