"""Component kinds: how each budget line is computed on whole columns, and explained.

A kind is code; a component is data (its YAML). Each kind turns its compiled
expressions into a float64 amount per entity (dollars, before rounding) plus
auxiliary columns (FTE, eligibility, limit targets), and explains one entity's
amount in symbols and in numbers. No kind loops over entities.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from fairshare.rules.expr import Expr, Fn

__all__ = ["KINDS", "CompiledExpr", "Computed", "Kind", "Line"]

Env = Mapping[str, Any]


@dataclass(frozen=True)
class CompiledExpr:
    source: str
    expr: Expr
    fn: Fn
    names: frozenset[str]
    path: tuple[str | int, ...]

    def __call__(self, env: Env) -> Any:
        return self.fn(env)


@dataclass
class Computed:
    amount: np.ndarray
    aux: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    """One explained line: symbols, numbers and the notes a letter needs."""

    symbolic: str
    numeric: str
    notes: tuple[str, ...] = ()


class Explain(Protocol):
    def value(self, ce: CompiledExpr, i: int) -> Any: ...
    def show(self, ce: CompiledExpr, i: int, unit: str | None = None) -> str: ...
    def name(self, ce: CompiledExpr) -> str: ...
    def money(self, dollars: float) -> str: ...
    def aux(self, key: str, i: int) -> Any: ...
    def of_cents(self, i: int) -> int: ...
    def line_cents(self, i: int) -> int: ...


def _col(x: Any, n: int, dtype: Any = np.float64) -> np.ndarray:
    """A value as a column of n; a scalar becomes a read-only broadcast view (no copy)."""
    a = np.asarray(x, dtype=dtype)
    if a.ndim == 0:
        return np.broadcast_to(a, (n,))
    return a


def _memo(env: Env, key: str, names: frozenset[str] | set[str], fn: Any) -> Any:
    """Reuse a part of a line that does not move while a budget parameter is solved."""
    memo = getattr(env, "memo", None)
    return fn() if memo is None else memo(key, names, fn)


def _mask(env: Env, when: CompiledExpr | None, n: int, key: str = "") -> np.ndarray:
    if when is None:
        return np.ones(n, dtype=bool)
    return _memo(env, f"{key}#when", when.names, lambda: _col(when(env), n, bool))  # type: ignore[no-any-return]


def _round_fte(raw: np.ndarray, rounding: str, step: float) -> np.ndarray:
    """Round FTE to a multiple of ``step`` (nearest: halves go up); float noise below 1e-9 step is ignored."""
    q = np.round(raw / step, 9)
    if rounding == "up":
        q = np.ceil(q)
    elif rounding == "down":
        q = np.floor(q)
    elif rounding == "nearest":
        q = np.floor(q + 0.5)
    else:
        return raw
    rounded: np.ndarray = np.round(q * step, 9)
    return rounded


class Kind:
    """Base of every component kind."""

    kind: str = ""
    is_line = True
    is_limit = False
    is_pot = False

    def __init__(
        self,
        cid: str,
        label: str,
        policy: str | None,
        when: CompiledExpr | None,
        exprs: dict[str, CompiledExpr],
        options: dict[str, Any] | None = None,
        of: tuple[str, ...] = (),
    ):
        self.id = cid
        self.label = label
        self.policy = policy
        self.when = when
        self.exprs = exprs
        self.options = options or {}
        self.of = of

    def names(self) -> set[str]:
        out: set[str] = set(self.of)
        for ce in self.exprs.values():
            out |= ce.names
        if self.when is not None:
            out |= self.when.names
        return out

    def all_exprs(self) -> list[CompiledExpr]:
        return [*self.exprs.values(), *([self.when] if self.when is not None else [])]

    def compute(self, env: Env, n: int) -> Computed:
        raise NotImplementedError

    def explain(self, ex: Explain, i: int) -> Line:
        raise NotImplementedError

    def _eligible(self, env: Env, n: int, amount: np.ndarray, aux: dict[str, np.ndarray] | None = None) -> Computed:
        out = dict(aux or {})
        if self.when is None:
            out["eligible"] = np.ones(n, dtype=bool)
            return Computed(np.asarray(amount, dtype=np.float64), out)
        m = _mask(env, self.when, n, self.id)
        out["eligible"] = m
        return Computed(np.where(m, amount, 0.0), out)

    def _names(self, *keys: str) -> frozenset[str]:
        out: set[str] = set()
        for k in keys:
            if k in self.exprs:
                out |= self.exprs[k].names
        return frozenset(out)


class PerPupil(Kind):
    """count × rate, optionally summed over grade bands with their own rates."""

    kind = "per_pupil"

    def _bands(self) -> list[tuple[str, CompiledExpr, CompiledExpr]]:
        labels: list[str] = self.options.get("band_labels", [])
        if labels:
            return [
                (lab, self.exprs[f"bands.{k}.count"], self.exprs[f"bands.{k}.rate"]) for k, lab in enumerate(labels)
            ]
        return [("", self.exprs["count"], self.exprs["rate"])]

    def compute(self, env: Env, n: int) -> Computed:
        total = np.zeros(n)
        for _, count, rate in self._bands():
            total = total + _col(count(env), n) * _col(rate(env), n)
        return self._eligible(env, n, total)

    def explain(self, ex: Explain, i: int) -> Line:
        sym, num = [], []
        bands = self._bands()
        for lab, count, rate in bands:
            c, r = float(ex.value(count, i)), float(ex.value(rate, i))
            prefix = f"{lab}: " if lab else ""
            if c != 0 or len(bands) == 1:  # bands without pupils are left out of the explanation
                sym.append(f"{prefix}{ex.name(count)} × {ex.name(rate)}")
                num.append(f"{prefix}{ex.show(count, i, 'pupils')} × {ex.money(r)} = {ex.money(c * r)}")
        return Line(" + ".join(sym), "; ".join(num) or "no pupils in any band")


class Weight(Kind):
    """count × weight × base; the weight flat, escalating between two points, or stepped."""

    kind = "weight"

    def weight(self, env: Env, n: int) -> np.ndarray:
        form = self.options["form"]
        if form == "flat":
            return _col(self.exprs["weight"](env), n)
        by = _col(self.exprs["by"](env), n)
        if form == "escalating":
            lo_at, hi_at = _col(self.exprs["low.at"](env), n), _col(self.exprs["high.at"](env), n)
            lo_w, hi_w = _col(self.exprs["low.weight"](env), n), _col(self.exprs["high.weight"](env), n)
            width = hi_at - lo_at
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = np.where(width > 0, (by - lo_at) / np.where(width > 0, width, 1.0), (by >= hi_at) * 1.0)
            escalated: np.ndarray = lo_w + (hi_w - lo_w) * np.clip(frac, 0.0, 1.0)
            return escalated
        w = np.zeros(n)
        for k in range(self.options["steps"]):
            at = _col(self.exprs[f"steps.{k}.at"](env), n)
            w = np.where(by >= at, _col(self.exprs[f"steps.{k}.weight"](env), n), w)
        return w

    def compute(self, env: Env, n: int) -> Computed:
        wkeys = [k for k in self.exprs if k not in ("count", "base")]
        w = _memo(env, f"{self.id}#w", self._names(*wkeys), lambda: self.weight(env, n))
        # count × base × weight, the order published formulas state, so the float result matches theirs
        amount = _col(self.exprs["count"](env), n) * _col(self.exprs["base"](env), n) * w
        return self._eligible(env, n, amount, {"weight": w})

    def explain(self, ex: Explain, i: int) -> Line:
        count, base = self.exprs["count"], self.exprs["base"]
        w = float(ex.aux("weight", i))
        amount = float(ex.value(count, i)) * w * float(ex.value(base, i))
        form = self.options["form"]
        notes: list[str] = []
        if form == "flat":
            wname = ex.name(self.exprs["weight"])
        elif form == "escalating":
            wname = "escalating weight"
            notes.append(
                f"The weight rises from {ex.show(self.exprs['low.weight'], i)} where {ex.name(self.exprs['by'])} is "
                f"{ex.show(self.exprs['low.at'], i)} to {ex.show(self.exprs['high.weight'], i)} at "
                f"{ex.show(self.exprs['high.at'], i)}; here {ex.name(self.exprs['by'])} is "
                f"{ex.show(self.exprs['by'], i)}, so the weight is {w:.4g}."
            )
        else:
            wname = "tiered weight"
            steps = ", ".join(
                f"{ex.show(self.exprs[f'steps.{k}.weight'], i)} from {ex.show(self.exprs[f'steps.{k}.at'], i)}"
                for k in range(self.options["steps"])
            )
            notes.append(
                f"Tiers by {ex.name(self.exprs['by'])}: {steps}; here it is {ex.show(self.exprs['by'], i)}, "
                f"so the weight is {w:.4g}."
            )
        return Line(
            f"{ex.name(count)} × {wname} × {ex.name(base)}",
            f"{ex.show(count, i, 'pupils')} × {w:.4g} × {ex.money(float(ex.value(base, i)))} = {ex.money(amount)}",
            tuple(notes),
        )


class Fixed(Kind):
    kind = "fixed"

    def compute(self, env: Env, n: int) -> Computed:
        return self._eligible(env, n, _col(self.exprs["amount"](env), n))

    def explain(self, ex: Explain, i: int) -> Line:
        a = self.exprs["amount"]
        return Line(ex.name(a), ex.money(float(ex.value(a, i))))


class Supplement(Kind):
    kind = "supplement"

    def compute(self, env: Env, n: int) -> Computed:
        if "amount" in self.exprs:
            amount = _col(self.exprs["amount"](env), n)
        else:
            amount = _col(self.exprs["count"](env), n) * _col(self.exprs["rate"](env), n)
        return self._eligible(env, n, amount)

    def explain(self, ex: Explain, i: int) -> Line:
        if "amount" in self.exprs:
            a = self.exprs["amount"]
            return Line(ex.name(a), ex.money(float(ex.value(a, i))))
        c, r = self.exprs["count"], self.exprs["rate"]
        cv, rv = float(ex.value(c, i)), float(ex.value(r, i))
        return Line(f"{ex.name(c)} × {ex.name(r)}", f"{ex.show(c, i, 'pupils')} × {ex.money(rv)} = {ex.money(cv * rv)}")


class Positions(Kind):
    """FTE × (average salary × (1 + benefits rate)); FTE fixed or from a staffing ratio."""

    kind = "positions"

    def fte(self, env: Env, n: int) -> tuple[np.ndarray, np.ndarray | None]:
        if "fte" in self.exprs:
            return _col(self.exprs["fte"](env), n), None
        raw = _col(self.exprs["ratio.count"](env), n) / _col(self.exprs["ratio.per"](env), n)
        fte = _round_fte(raw, self.options["rounding"], self.options["step"])
        if "ratio.min" in self.exprs:
            fte = np.maximum(fte, _col(self.exprs["ratio.min"](env), n))
        if "ratio.max" in self.exprs:
            fte = np.minimum(fte, _col(self.exprs["ratio.max"](env), n))
        return fte, raw

    def compute(self, env: Env, n: int) -> Computed:
        fte, raw = self.fte(env, n)
        salary = np.asarray(self.exprs["salary"](env), dtype=float)
        benefits = np.asarray(self.exprs["benefits_rate"](env), dtype=float) if "benefits_rate" in self.exprs else 0.0
        unit_cost = np.broadcast_to(salary * (1.0 + benefits), (n,))
        m = _mask(env, self.when, n, self.id)
        if self.when is not None:
            fte = np.where(m, fte, 0.0)
        aux = {"eligible": m, "fte": fte, "unit_cost": unit_cost}
        if raw is not None:
            aux["raw_fte"] = raw
        return Computed(fte * unit_cost, aux)

    def explain(self, ex: Explain, i: int) -> Line:
        fte = float(ex.aux("fte", i))
        salary = float(ex.value(self.exprs["salary"], i))
        has_b = "benefits_rate" in self.exprs
        b = float(ex.value(self.exprs["benefits_rate"], i)) if has_b else 0.0
        notes: list[str] = []
        if "ratio.count" in self.exprs:
            raw = float(ex.aux("raw_fte", i))
            rounding = self.options["rounding"]
            step = self.options["step"]
            rule = "not rounded" if rounding == "none" else f"rounded {rounding} to a multiple of {step:g} FTE"
            notes.append(
                f"Staffing ratio: {ex.show(self.exprs['ratio.count'], i, 'pupils')} "
                f"{ex.name(self.exprs['ratio.count'])} ÷ "
                f"{ex.show(self.exprs['ratio.per'], i)} per FTE = {raw:.3f} FTE, {rule}"
                + (f", at least {ex.show(self.exprs['ratio.min'], i)}" if "ratio.min" in self.exprs else "")
                + (f", at most {ex.show(self.exprs['ratio.max'], i)}" if "ratio.max" in self.exprs else "")
                + f": {fte:g} FTE."
            )
        sym = f"FTE × {ex.name(self.exprs['salary'])}" + (
            f" × (1 + {ex.name(self.exprs['benefits_rate'])})" if has_b else ""
        )
        num = (
            f"{fte:g} FTE × {ex.money(salary)}"
            + (f" × (1 + {b:g})" if has_b else "")
            + f" = {ex.money(fte * salary * (1 + b))}"
        )
        return Line(sym, num, tuple(notes))


class Pot(Kind):
    """A fixed total shared among eligible entities in proportion to a driver (largest-remainder cents)."""

    kind = "pot"
    is_pot = True

    def compute(self, env: Env, n: int) -> Computed:
        m = _mask(env, self.when, n, self.id)
        driver = np.where(m, _col(self.exprs["driver"](env), n), 0.0)
        total = float(np.max(_col(self.exprs["total"](env), n))) if n else 0.0
        s = float(driver.sum())
        amount = driver * (total / s) if s > 0 else np.zeros(n)
        return Computed(
            amount,
            {
                "eligible": m & (driver > 0),
                "when": m,
                "driver": driver,
                "pot_total": np.full(n, total),
                "driver_sum": np.full(n, s),
            },
        )

    def explain(self, ex: Explain, i: int) -> Line:
        d, total, s = float(ex.aux("driver", i)), float(ex.aux("pot_total", i)), float(ex.aux("driver_sum", i))
        share = d / s if s else 0.0
        return Line(
            f"{ex.name(self.exprs['total'])} × this school's {ex.name(self.exprs['driver'])} ÷ eligible total",
            f"{ex.money(total)} × {d:,.6g} ÷ {s:,.6g} ({share:.2%}) = {ex.money(total * share)}",
            ("Cents are shared by largest remainder so the pot is paid out exactly.",),
        )


class _Limit(Kind):
    is_limit = True

    def subtotal(self, env: Env, n: int) -> np.ndarray:
        moving: frozenset[str] = getattr(env, "moving", frozenset())
        static = [c for c in self.of if c not in moving]

        def add(ids: list[str]) -> np.ndarray:
            s = np.zeros(n)
            for cid in ids:
                s += env[cid]
            return s

        s: np.ndarray = _memo(env, f"{self.id}#static", frozenset(static), lambda: add(static))
        dynamic = [c for c in self.of if c in moving]
        return s + add(dynamic) if dynamic else s


class Cap(_Limit):
    kind = "cap"

    def compute(self, env: Env, n: int) -> Computed:
        m = _mask(env, self.when, n, self.id)
        sub = self.subtotal(env, n)
        cap = _col(self.exprs["max"](env), n)
        binding = m & (sub > cap)
        return Computed(
            np.where(binding, cap - sub, 0.0), {"eligible": m, "binding": binding, "target": cap, "subtotal": sub}
        )

    def explain(self, ex: Explain, i: int) -> Line:
        sub, cap = ex.of_cents(i) / 100, ex.of_cents(i) / 100 + ex.line_cents(i) / 100
        if not ex.aux("binding", i):
            cap = float(ex.aux("target", i))
        if ex.aux("binding", i):
            return Line(
                "cap − subtotal",
                f"{ex.money(cap)} − {ex.money(sub)} = {ex.money(cap - sub)}",
                (f"The lines above come to {ex.money(sub)}, more than the cap of {ex.money(cap)}.",),
            )
        return Line("no adjustment", f"{ex.money(sub)} is within the cap of {ex.money(cap)}")


class Floor(_Limit):
    kind = "floor"

    def compute(self, env: Env, n: int) -> Computed:
        m = _mask(env, self.when, n, self.id)
        sub = self.subtotal(env, n)
        lo = _col(self.exprs["min"](env), n)
        binding = m & (sub < lo)
        return Computed(
            np.where(binding, lo - sub, 0.0), {"eligible": m, "binding": binding, "target": lo, "subtotal": sub}
        )

    def explain(self, ex: Explain, i: int) -> Line:
        sub, lo = ex.of_cents(i) / 100, ex.of_cents(i) / 100 + ex.line_cents(i) / 100
        if not ex.aux("binding", i):
            lo = float(ex.aux("target", i))
        if ex.aux("binding", i):
            return Line(
                "floor − subtotal",
                f"{ex.money(lo)} − {ex.money(sub)} = {ex.money(lo - sub)}",
                (f"The lines above come to {ex.money(sub)}, less than the floor of {ex.money(lo)}.",),
            )
        return Line("no adjustment", f"{ex.money(sub)} is at or above the floor of {ex.money(lo)}")


class HoldHarmless(_Limit):
    """Tops a total up to prior × (1 − maximum loss); a blank prior gives no protection."""

    kind = "hold_harmless"

    def compute(self, env: Env, n: int) -> Computed:
        m = _mask(env, self.when, n, self.id)
        sub = self.subtotal(env, n)
        prior = _col(self.exprs["prior"](env), n)
        loss = _col(self.exprs["max_loss"](env), n)
        has_prior = ~np.isnan(prior)
        target = _memo(
            env,
            f"{self.id}#target",
            self._names("prior", "max_loss"),
            lambda: np.where(has_prior, prior * (1.0 - loss), 0.0),
        )
        binding = m & has_prior & (sub < target)
        return Computed(
            np.where(binding, target - sub, 0.0),
            {
                "eligible": m & has_prior,
                "binding": binding,
                "target": target,
                "subtotal": sub,
                "prior": prior,
                "loss": loss,
            },
        )

    def explain(self, ex: Explain, i: int) -> Line:
        prior = float(ex.aux("prior", i))
        if np.isnan(prior):
            return Line("no adjustment", "no prior-year amount, so no protection applies")
        sub, loss = ex.of_cents(i) / 100, float(ex.aux("loss", i))
        target = sub + ex.line_cents(i) / 100 if ex.aux("binding", i) else float(ex.aux("target", i))
        guard = f"{ex.money(prior)} × (1 − {loss:g}) = {ex.money(target)}"
        if ex.aux("binding", i):
            return Line(
                f"{ex.name(self.exprs['prior'])} × (1 − maximum loss) − subtotal",
                f"{guard}; {ex.money(target)} − {ex.money(sub)} = {ex.money(target - sub)}",
                (f"Without protection the school would fall to {ex.money(sub)}.",),
            )
        return Line("no adjustment", f"{ex.money(sub)} is at or above the protected amount {guard}")


class ScaleToBudget(Kind):
    """Solves a parameter so the listed lines total the budget exactly; it adds no line of its own."""

    kind = "scale_to_budget"
    is_line = False

    def compute(self, env: Env, n: int) -> Computed:  # pragma: no cover - handled by the evaluator
        raise NotImplementedError

    def explain(self, ex: Explain, i: int) -> Line:  # pragma: no cover - handled by the trace
        raise NotImplementedError


KINDS: dict[str, type[Kind]] = {
    k.kind: k for k in (PerPupil, Weight, Fixed, Supplement, Positions, Pot, Cap, Floor, HoldHarmless, ScaleToBudget)
}
