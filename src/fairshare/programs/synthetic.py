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

__all__ = ["FLAG_COLUMNS", "GRADE_COLUMNS", "synthetic_schools", "synthetic_staff", "synthetic_students"]

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


def synthetic_index_students(n_schools: int = 10, seed: int = 2026) -> pl.DataFrame:
    """Student rows for the need index example (``examples/need-index/``): SYNTHETIC.

    One row per student: school id and name, home neighbourhood, yes/no low income, English
    learner and disability flags, a prior test score (0-100; blank for some newcomers), an
    attendance rate (0-1; blank for a few), and the home neighbourhood's crime rate (incidents
    per 1,000 residents), share of adults with a bachelor's degree and median household income
    (blank where a small neighbourhood's figure is suppressed). About 15 students per school.
    """
    rng = np.random.default_rng(seed + 7)
    n_hoods = 8
    hood_need = np.linspace(0.05, 0.95, n_hoods)[rng.permutation(n_hoods)]
    crime = np.round(12 + 55 * hood_need + rng.normal(0, 4, n_hoods), 1)
    degree = np.round(np.clip(0.62 - 0.45 * hood_need + rng.normal(0, 0.03, n_hoods), 0.03, 0.9), 3)
    income = np.round(98_000 - 62_000 * hood_need + rng.normal(0, 4_000, n_hoods), -2)
    school_need = np.linspace(0.1, 0.9, n_schools)[rng.permutation(n_schools)]
    sizes = rng.integers(12, 19, n_schools)
    school = np.repeat(np.arange(n_schools), sizes)
    n = int(sizes.sum())
    need = np.clip(school_need[school] + rng.normal(0, 0.15, n), 0, 1)
    # students live near their school: neighbourhoods whose need is close to the student's
    hood = np.argmin(np.abs(hood_need[None, :] - need[:, None]) + rng.uniform(0, 0.25, (n, n_hoods)), axis=1)
    low_income = rng.random(n) < 0.15 + 0.7 * need
    el = rng.random(n) < 0.04 + 0.3 * need
    swd = rng.random(n) < 0.16
    prior = np.round(np.clip(rng.normal(72 - 30 * need - 6 * swd, 9), 1, 100))
    attendance = np.round(np.clip(rng.normal(0.95 - 0.09 * need, 0.03), 0.6, 1.0), 3)
    ids = [f"S{s + 1:02d}" for s in range(n_schools)]
    names = [f"{_NAMES[s % len(_NAMES)]} Elementary School" for s in range(n_schools)]
    yes_no = np.array(["N", "Y"], dtype=object)
    suppressed = hood_need == hood_need.min()  # the least-needy neighbourhood's income is suppressed (small)
    return pl.DataFrame(
        {
            "student_id": [f"P{i + 1:04d}" for i in range(n)],
            "school_id": [ids[s] for s in school],
            "school_name": [names[s] for s in school],
            "neighbourhood": [f"N{h + 1}" for h in hood],
            "low_income": yes_no[low_income.astype(int)].tolist(),
            "english_learner": yes_no[el.astype(int)].tolist(),
            "disability": yes_no[swd.astype(int)].tolist(),
            "prior_score": pl.Series(np.where(rng.random(n) < 0.06, np.nan, prior), nan_to_null=True).cast(pl.Int64),
            "attendance_rate": pl.Series(np.where(rng.random(n) < 0.04, np.nan, attendance), nan_to_null=True),
            "crime_rate": crime[hood],
            "adult_degree_share": degree[hood],
            "median_income": pl.Series(np.where(suppressed[hood], np.nan, income[hood]), nan_to_null=True).cast(
                pl.Int64
            ),
        }
    )


#: assignment categories of the synthetic staff other than teachers: share of the teacher count, yearly exit rate
_OTHER_STAFF = {"paraprofessional": (0.30, 0.15), "counselor": (0.05, 0.08), "administrator": (0.06, 0.10)}
#: chance a teacher with 0, 1, 2, 3 years since hire leaves before the next year (4 years or more: the last)
_TEACHER_EXIT = np.array([0.30, 0.23, 0.18, 0.14, 0.07])


def synthetic_staff(n_teachers: int = 300, years: int = 10, seed: int = 2026, first_year: int = 2017) -> pl.DataFrame:
    """SYNTHETIC staff records: one row per staff member and fiscal year of a made-up district.

    Columns ``staff_id, fiscal_year, assignment_category, fte, district, hire_year``. The district starts
    with ``n_teachers`` teachers (hired in earlier years) plus paraprofessionals, counselors and
    administrators; each year some leave (new teachers most often: 30 %, 23 %, 18 %, 14 % in their first
    four years, 7 % after) and leavers are replaced, less 1 % of teaching posts a year. Over half of
    each teacher cohort has left within four years. The same arguments always give the same rows.
    """
    rng = np.random.default_rng(seed + 11)
    cats = ["teacher", *_OTHER_STAFF]
    target = {"teacher": float(n_teachers)} | {c: n_teachers * share for c, (share, _) in _OTHER_STAFF.items()}
    exit_rate = {c: rate for c, (_, rate) in _OTHER_STAFF.items()}
    ids: list[str] = []
    category: list[str] = []
    hired: list[int] = []
    fte_of: list[float] = []
    active: list[int] = []

    def hire(cat: str, count: int, year: int | np.ndarray) -> None:
        for y in np.broadcast_to(np.asarray(year), (count,)).tolist():
            active.append(len(ids))
            ids.append(f"E{len(ids) + 1:05d}")
            category.append(cat)
            hired.append(int(y))
            fte_of.append(0.5 if rng.random() < 0.08 else 1.0)

    for cat in cats:
        count = round(target[cat])
        hire(cat, count, first_year - rng.integers(1, 25, count))
    rows: list[tuple[str, int, str, float, str, int]] = []
    for year in range(first_year, first_year + years):
        if year > first_year:
            staying: list[int] = []
            for i in active:
                tenure = min(year - 1 - hired[i], len(_TEACHER_EXIT) - 1)
                rate = _TEACHER_EXIT[tenure] if category[i] == "teacher" else exit_rate[category[i]]
                if rng.random() >= rate:
                    staying.append(i)
            active[:] = staying
            target["teacher"] *= 0.99
            for cat in cats:
                have = sum(1 for i in active if category[i] == cat)
                hire(cat, max(round(target[cat]) - have, 0), year)
        rows.extend((ids[i], year, category[i], fte_of[i], "Synthetic USD", hired[i]) for i in active)
    return pl.DataFrame(
        rows,
        schema={
            "staff_id": pl.String,
            "fiscal_year": pl.Int64,
            "assignment_category": pl.String,
            "fte": pl.Float64,
            "district": pl.String,
            "hire_year": pl.Int64,
        },
        orient="row",
    ).sort("fiscal_year", "staff_id")
