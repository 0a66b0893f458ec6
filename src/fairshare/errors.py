"""One exception tree with stable codes.

Every error a user can cause is a :class:`FairshareError` (or carries a list of
:class:`Problem`) with a stable ``code``, a location (file, row, column or
file:line:column for formulas), the offending value, the rule broken and a hint.
``docs/errors.md`` has one heading per code in :data:`CODES`; a test keeps the
two lists equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CODES",
    "FairshareError",
    "FormulaError",
    "InputError",
    "Problem",
    "RunError",
    "TradeError",
]

#: code -> one-line meaning. docs/errors.md documents each.
CODES: dict[str, str] = {
    # formula files
    "yaml_syntax": "the formula file is not valid YAML",
    "duplicate_key": "a mapping in the formula repeats a key",
    "unknown_key": "a key the schema does not define (misspelt or misplaced)",
    "missing_key": "a required key is absent",
    "invalid_value": "a value has the wrong type or is outside what the schema allows",
    "unknown_unit": "a unit that is not in the units registry",
    "unknown_id": "an expression or reference names no parameter, input, variable or component",
    "duplicate_id": "two parameters, inputs, variables or components share one id",
    "cycle": "variables or components depend on each other in a circle",
    "not_in_force": "a parameter has no value in force on the run date",
    "expression_syntax": "an expression cannot be parsed",
    "expression_forbidden": "an expression uses a construct outside the safe language",
    # input tables
    "file_not_found": "an input file does not exist",
    "file_format": "an input file cannot be read as CSV, XLSX or Parquet",
    "empty_file": "an input file has no data rows",
    "missing_column": "a column the contract requires is absent",
    "duplicate_entity": "two rows carry the same entity id",
    "missing_value": "a required cell is blank",
    "not_a_number": "a numeric cell does not hold a number",
    "not_an_integer": "a count cell holds a fraction",
    "not_boolean": "a yes/no cell holds something other than true/false/yes/no/1/0",
    "below_minimum": "a value is below the contract's allowed minimum (e.g. a negative count)",
    "above_maximum": "a value is above the contract's allowed maximum (e.g. a percentage over 100)",
    "exceeds_total": "a subgroup count is larger than the count it is part of",
    "not_allowed": "a category value outside the contract's allowed list",
    "unknown_school": "a student row names a school id that is not in the school table",
    "duplicate_student": "two student rows carry the same student id",
    # running
    "budget_unreachable": "scale-to-budget cannot reach the appropriation",
    "unknown_entity": "an entity id that is not in the table",
    "rounding_failed": "cents could not be reconciled to a fixed total",
    "not_finite": "a line's amount is not a finite number (e.g. a division by zero)",
    "set_aside_out_of_range": "a set-aside is negative or more than the total it is carved from",
    "missing_year": "a table with one row per entity and year has no rows for a fiscal year of the run",
    # trades
    "unknown_role": "a trade names a role the formula does not define",
    "locked_role": "a trade changes a role the formula locks",
    "insufficient_fte": "a trade gives up more FTE of a role than the school has",
    "overspend": "trades cost more than the school's discretionary dollars",
    # need index (fairshare index)
    "inconsistent_name": "rows of one entity id give it different names",
    # restricted funds (fairshare fund)
    "fund_too_small": "the fund cannot pay every eligible school its minimum grant",
    "unknown_partner": "a selection names a partner that is not on the menu",
    "partner_not_vetted": "a selection names a partner on the menu that is not vetted",
    "school_not_funded": "a selection is made for a school the fund does not pay",
    "selection_over_budget": "a school's selections cost more than its restricted amount",
    # resource allocation review (fairshare review)
    "district_amount_varies": "rows of one district give a district-level amount (e.g. central office) differently",
    "empty_pool": "no school is left to compare once exclusions and missing values are taken out",
    "too_few_units": "equity metrics need at least two units (schools or districts) to compare",
    # trends (fairshare trends)
    "duplicate_observation": "an indicator table has two values for one unit, indicator and period",
    "period_not_in_data": "a comparison names a period the table has no values for",
    # ledger (fairshare ledger)
    "conflict": "two crosswalk rules of one section match the same ledger row",
    "ledger_fiscal_year": "a ledger row's fiscal year is not a year",
    # identification (fairshare identify)
    "missing_table": "a table the rules read is not given (--data NAME=PATH, --previous), or one given is not declared",
    "no_tier": "an identified entity matches none of a tier scheme's tiers",
    "no_recipients": "the consolidated grant has nobody to pay (none identified, or every base weight is zero)",
    # workbench
    "stale_version": "someone changed the record since you loaded it (optimistic locking): reload, then redo",
    "comment_required": "a review that sends something back needs a comment saying what to change",
    # workbench: school budgets and partner plans
    "plan_status": "a school budget's or partner plan's status does not allow this action (e.g. editing one submitted)",
    # workbench: grant plans and draw-downs
    "grant_status": "the grant plan's status does not allow this action (e.g. editing an approved plan)",
    "grant_exists": "the district already has a grant plan for that fiscal year",
    "grant_incomplete": "a grant plan is submitted or approved without strategies, goals, budget lines or an award",
    "grant_over_award": "a grant plan's budget lines add up to more than its award",
    "grant_line_carried": "a budget line holding money carried forward is removed or moved to another school or object",
    "drawdown_before_approval": "a draw-down is requested against a grant plan that is not approved",
    "drawdown_exceeds_line": "a draw-down would take a budget line past amount × tolerance ÷ 100 + carried money",
    "drawdown_exceeds_award": "a draw-down would take the plan's draws past its award plus carried money",
    "drawdown_backup": "a draw-down has no backup detail, or its itemised backup does not add up to its amount",
}


@dataclass(frozen=True)
class Problem:
    """One located problem. Validation collects these and never stops at the first."""

    code: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: Any = None
    rule: str | None = None
    hint: str | None = None
    line: int | None = None
    col: int | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:  # pragma: no cover - programming error
            raise ValueError(f"unregistered error code {self.code!r}")

    @property
    def location(self) -> str:
        parts: list[str] = []
        if self.file:
            loc = self.file
            if self.line is not None:
                loc += f":{self.line}"
                if self.col is not None:
                    loc += f":{self.col}"
            parts.append(loc)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        head = f"{self.location}: " if self.location else ""
        text = f"{head}[{self.code}] {self.message}"
        if self.value is not None and self.row is not None:
            text += f" (value {self.value!r})"
        if self.rule:
            text += f"; rule: {self.rule}"
        if self.hint:
            text += f". Fix: {self.hint}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "row": self.row,
            "column": self.column,
            "value": None if self.value is None else str(self.value),
            "rule": self.rule,
            "message": self.message,
            "hint": self.hint,
        }


class FairshareError(Exception):
    """Base of every error a user can cause. Carries one or more problems."""

    kind = "error"

    def __init__(self, problems: Problem | list[Problem]):
        self.problems: list[Problem] = [problems] if isinstance(problems, Problem) else list(problems)
        if not self.problems:  # pragma: no cover - programming error
            raise ValueError("an error needs at least one problem")
        super().__init__(self._summary())

    @property
    def code(self) -> str:
        return self.problems[0].code

    def _summary(self) -> str:
        if len(self.problems) == 1:
            return str(self.problems[0])
        counts: dict[str, int] = {}
        for p in self.problems:
            counts[p.code] = counts.get(p.code, 0) + 1
        by_code = ", ".join(f"{c}: {n}" for c, n in sorted(counts.items()))
        return f"{len(self.problems)} problems ({by_code}); first: {self.problems[0]}"

    @classmethod
    def one(cls, code: str, message: str, **where: Any) -> FairshareError:
        return cls(Problem(code, message, **where))


class FormulaError(FairshareError):
    """A formula file is malformed, refers to unknown ids, or has no value in force."""

    kind = "formula"


class InputError(FairshareError):
    """An input table breaks the formula's input contract."""

    kind = "input"


class RunError(FairshareError):
    """A run cannot complete (e.g. a budget that cannot be reached)."""

    kind = "run"


class TradeError(FairshareError):
    """A principal's position trade breaks the rules."""

    kind = "trade"


@dataclass
class ProblemList:
    """Collector used by validators: add problems, raise once at the end."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, code: str, message: str, **where: Any) -> None:
        self.problems.append(Problem(code, message, **where))

    def raise_if_any(self, cls: type[FairshareError]) -> None:
        if self.problems:
            raise cls(self.problems)

    def __bool__(self) -> bool:
        return bool(self.problems)
