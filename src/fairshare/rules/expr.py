"""The expression language: a small, safe subset of Python syntax compiled to NumPy.

An expression is parsed with :func:`ast.parse` and every node is checked against a
whitelist; nothing is ever passed to ``eval``. The result is a tree of
:class:`Expr` nodes that (a) list the ids they read (:meth:`Expr.names`), (b)
evaluate on whole columns (:meth:`Expr.compile` gives a closure over NumPy), and
(c) print back in canonical form for traces.

Language
    numbers, 'strings', true, false; names (``enrollment``) and dotted parameter ids
    (``weights.english_learner``); ``+ - * / // % **``; ``== != < <= > >=``;
    ``and or not``; ``x in ['a', 'b']`` / ``not in``; and the functions in
    :data:`FUNCTIONS`. Conditions are element-wise: ``and``/``or`` never ask an
    array for its truth value.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["FUNCTIONS", "Expr", "ExprSyntaxError", "numeric_constants", "parse_expr"]

Value = Any  # np.ndarray | float | bool | str
Env = Mapping[str, Value]
Fn = Callable[[Env], Value]


class ExprSyntaxError(Exception):
    """Raised by the parser; the caller turns it into a located FormulaError."""

    def __init__(self, code: str, message: str, offset: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.offset = offset


def _rank(x: Value, descending: bool = False) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        return np.ones(1)
    key = -a if descending else a
    order = np.argsort(key)  # ties are ranked from the sorted keys, so any sort works
    sorted_key = key[order]
    # competition ("min") ranking: ties share the smallest rank
    first = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    idx = np.flatnonzero(first)
    run_rank = np.repeat(idx + 1, np.diff(np.r_[idx, len(a)]))
    out = np.empty(len(a), dtype=float)
    out[order] = run_rank
    return out


def _percentile(x: Value) -> np.ndarray:
    """Weak percentile rank: % of entities whose value is <= this entity's."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 0:
        return np.full(1, 100.0)
    s = np.sort(a)
    return np.searchsorted(s, a, side="right") * 100.0 / len(a)


def _round_half_away(x: Value, digits: Value = 0) -> Value:
    """Half away from zero on the decimal each float prints as, like money (1.005 -> 1.01)."""
    scale = 10.0 ** float(digits)
    v = np.asarray(x, dtype=float)
    a = np.abs(v)
    f = np.floor(a * scale)
    return np.copysign((f + (a >= (f + 0.5) / scale)) / scale, v)


def _excel_round(x: Value, digits: Value = 0) -> Value:
    """A spreadsheet's ROUND: the value to 15 significant digits (as a spreadsheet holds it), then
    half away from zero at ``digits`` decimals. 0.21018549999999991 -> 0.2101855 -> 0.210186."""
    v = np.asarray(x, dtype=float)
    a = np.abs(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.floor(np.log10(np.where(a > 0, a, 1.0)))
    scale = 10.0 ** (14 - mag)
    fifteen = np.rint(a * scale) / scale  # the float nearest the 15-significant-digit decimal
    return _round_half_away(np.copysign(fifteen, v), digits)


def _ramp(x: Value, lo: Value, hi: Value) -> Value:
    x = np.asarray(x, dtype=float)
    width = np.asarray(hi, dtype=float) - np.asarray(lo, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(width > 0, (x - lo) / np.where(width > 0, width, 1.0), np.where(x >= hi, 1.0, 0.0))
    return np.clip(r, 0.0, 1.0)


def _elementwise_sum(*args: Value) -> Value:
    out: Value = 0.0
    for a in args:
        out = out + np.asarray(a, dtype=float)
    return out


def _reduce(fn: Callable[..., Any]) -> Callable[..., Any]:
    def inner(*args: Value) -> Value:
        out = args[0]
        for a in args[1:]:
            out = fn(out, a)
        return out

    return inner


def _mean(x: Value) -> Value:
    a = np.asarray(x, dtype=float)
    return float(np.mean(a)) if a.size else np.nan


def _is_missing(x: Value) -> Value:
    a = np.asarray(x)
    if a.dtype.kind == "f":
        return np.isnan(a)
    return np.zeros(a.shape, dtype=bool)


def _coalesce(x: Value, default: Value) -> Value:
    a = np.asarray(x, dtype=float)
    return np.where(np.isnan(a), default, a)


@dataclass(frozen=True)
class FunctionSpec:
    fn: Callable[..., Any]
    min_args: int
    max_args: int | None
    doc: str
    keywords: tuple[str, ...] = ()


FUNCTIONS: dict[str, FunctionSpec] = {
    "where": FunctionSpec(np.where, 3, 3, "where(cond, a, b): a where cond holds, else b"),
    "min": FunctionSpec(_reduce(np.minimum), 2, None, "min(a, b, ...): element-wise minimum"),
    "max": FunctionSpec(_reduce(np.maximum), 2, None, "max(a, b, ...): element-wise maximum"),
    "clip": FunctionSpec(np.clip, 3, 3, "clip(x, lo, hi): x limited to [lo, hi]"),
    "abs": FunctionSpec(np.abs, 1, 1, "abs(x)"),
    "floor": FunctionSpec(np.floor, 1, 1, "floor(x): round down"),
    "ceil": FunctionSpec(np.ceil, 1, 1, "ceil(x): round up"),
    "round": FunctionSpec(_round_half_away, 1, 2, "round(x, digits=0): half away from zero"),
    "sum": FunctionSpec(_elementwise_sum, 1, None, "sum(a, b, ...): element-wise sum"),
    "excel_round": FunctionSpec(
        _excel_round, 1, 2, "excel_round(x, digits=0): a spreadsheet's ROUND (15 significant digits, then half away)"
    ),
    "ramp": FunctionSpec(_ramp, 3, 3, "ramp(x, lo, hi): 0 at or below lo, 1 at or above hi, linear between"),
    "rank": FunctionSpec(
        _rank,
        1,
        1,
        "rank(x, descending=false): 1 = smallest (largest if descending); ties share the lowest rank",
        keywords=("descending",),
    ),
    "percentile": FunctionSpec(_percentile, 1, 1, "percentile(x): % of entities with a value <= this one"),
    "total": FunctionSpec(lambda x: np.sum(np.asarray(x, dtype=float)), 1, 1, "total(x): sum over all entities"),
    "mean": FunctionSpec(_mean, 1, 1, "mean(x): mean over all entities (missing on an empty table)"),
    "is_missing": FunctionSpec(_is_missing, 1, 1, "is_missing(x): true where an optional input is blank"),
    "coalesce": FunctionSpec(_coalesce, 2, 2, "coalesce(x, default): x, or default where x is missing"),
}

_BINOPS: dict[type, tuple[str, Callable[[Any, Any], Any], int]] = {
    ast.Add: ("+", np.add, 4),
    ast.Sub: ("-", np.subtract, 4),
    ast.Mult: ("*", np.multiply, 5),
    ast.Div: ("/", np.true_divide, 5),
    ast.FloorDiv: ("//", np.floor_divide, 5),
    ast.Mod: ("%", np.mod, 5),
    ast.Pow: ("**", np.power, 7),
}
_CMPOPS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Eq: ("==", np.equal),
    ast.NotEq: ("!=", np.not_equal),
    ast.Lt: ("<", np.less),
    ast.LtE: ("<=", np.less_equal),
    ast.Gt: (">", np.greater),
    ast.GtE: (">=", np.greater_equal),
}


class Expr:
    """A parsed expression node."""

    prec = 10

    def names(self) -> set[str]:
        raise NotImplementedError

    def compile(self) -> Fn:
        raise NotImplementedError

    def text(self) -> str:
        raise NotImplementedError

    def _wrap(self, child: Expr, prec: int) -> str:
        t = child.text()
        return f"({t})" if child.prec < prec else t


@dataclass(frozen=True, eq=False)
class Const(Expr):
    value: float | str | bool

    def names(self) -> set[str]:
        return set()

    def compile(self) -> Fn:
        v = self.value
        return lambda env: v

    def text(self) -> str:
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        if isinstance(self.value, str):
            return repr(self.value)
        v = self.value
        if isinstance(v, float) and v.is_integer() and abs(v) < 1e16:
            return str(int(v))
        return repr(v)  # shortest text that reads back as the same float


@dataclass(frozen=True, eq=False)
class Name(Expr):
    id: str

    def names(self) -> set[str]:
        return {self.id}

    def compile(self) -> Fn:
        key = self.id
        return lambda env: env[key]

    def text(self) -> str:
        return self.id


@dataclass(frozen=True, eq=False)
class Bin(Expr):
    op: str
    fn: Callable[[Any, Any], Any]
    left: Expr
    right: Expr
    prec: int = 4

    def names(self) -> set[str]:
        return self.left.names() | self.right.names()

    def compile(self) -> Fn:
        lf, rf, fn = self.left.compile(), self.right.compile(), self.fn
        return lambda env: fn(lf(env), rf(env))

    def text(self) -> str:
        right_prec = self.prec + (0 if self.op == "**" else 1)
        left_prec = self.prec + (1 if self.op == "**" else 0)
        return f"{self._wrap(self.left, left_prec)} {self.op} {self._wrap(self.right, right_prec)}"


@dataclass(frozen=True, eq=False)
class Neg(Expr):
    operand: Expr
    prec: int = 6

    def names(self) -> set[str]:
        return self.operand.names()

    def compile(self) -> Fn:
        f = self.operand.compile()
        return lambda env: np.negative(f(env))

    def text(self) -> str:
        return f"-{self._wrap(self.operand, 6)}"


@dataclass(frozen=True, eq=False)
class Not(Expr):
    operand: Expr
    prec: int = 2

    def names(self) -> set[str]:
        return self.operand.names()

    def compile(self) -> Fn:
        f = self.operand.compile()
        return lambda env: np.logical_not(f(env))

    def text(self) -> str:
        return f"not {self._wrap(self.operand, 2)}"


@dataclass(frozen=True, eq=False)
class Logic(Expr):
    op: str  # "and" | "or"
    operands: tuple[Expr, ...]

    @property
    def prec(self) -> int:  # type: ignore[override]
        return 1 if self.op == "and" else 0

    def names(self) -> set[str]:
        out: set[str] = set()
        for o in self.operands:
            out |= o.names()
        return out

    def compile(self) -> Fn:
        fs = [o.compile() for o in self.operands]
        fn = np.logical_and if self.op == "and" else np.logical_or

        def run(env: Env) -> Value:
            out = fs[0](env)
            for f in fs[1:]:
                out = fn(out, f(env))
            return out

        return run

    def text(self) -> str:
        return f" {self.op} ".join(self._wrap(o, self.prec + 1) for o in self.operands)


@dataclass(frozen=True, eq=False)
class Compare(Expr):
    ops: tuple[tuple[str, Callable[[Any, Any], Any]], ...]
    operands: tuple[Expr, ...]
    prec: int = 3

    def names(self) -> set[str]:
        out: set[str] = set()
        for o in self.operands:
            out |= o.names()
        return out

    def compile(self) -> Fn:
        fs = [o.compile() for o in self.operands]
        fns = [fn for _, fn in self.ops]

        def run(env: Env) -> Value:
            left = fs[0](env)
            out: Value = True
            for fn, f in zip(fns, fs[1:], strict=True):
                right = f(env)
                out = np.logical_and(out, fn(left, right))
                left = right
            return out

        top = self._top_k(run)
        return top if top is not None else run

    def _top_k(self, general: Fn) -> Fn | None:
        """``rank(x) <= k`` (or ``< k``) without sorting: under competition ranking an entity's rank
        is at most k exactly when its value reaches the k-th best value (one partition, O(n))."""
        left = self.operands[0]
        if len(self.ops) != 1 or self.ops[0][0] not in ("<=", "<") or not isinstance(left, Call):
            return None
        if left.func != "rank" or len(left.args) != 1:
            return None
        x_f, k_f = left.args[0].compile(), self.operands[1].compile()
        desc_f = dict((k, a.compile()) for k, a in left.kwargs).get("descending")
        strict = self.ops[0][0] == "<"

        def run(env: Env) -> Value:
            k = k_f(env)
            x = np.asarray(x_f(env), dtype=float)
            if np.ndim(k) or x.ndim != 1 or np.isnan(x).any():
                return general(env)
            kk = int(np.ceil(float(k)) - 1) if strict else int(np.floor(float(k)))
            n = len(x)
            if kk < 1:
                return np.zeros(n, dtype=bool)
            if kk >= n:
                return np.ones(n, dtype=bool)
            if desc_f is not None and bool(np.all(desc_f(env))):
                return x >= np.partition(x, n - kk)[n - kk]
            return x <= np.partition(x, kk - 1)[kk - 1]

        return run

    def text(self) -> str:
        parts = [self._wrap(self.operands[0], 4)]
        for (sym, _), o in zip(self.ops, self.operands[1:], strict=True):
            parts.append(f"{sym} {self._wrap(o, 4)}")
        return " ".join(parts)


@dataclass(frozen=True, eq=False)
class In(Expr):
    operand: Expr
    values: tuple[float | str | bool, ...]
    negate: bool
    prec: int = 3

    def names(self) -> set[str]:
        return self.operand.names()

    def compile(self) -> Fn:
        f = self.operand.compile()
        values = list(self.values)
        negate = self.negate

        def run(env: Env) -> Value:
            r = np.isin(f(env), values)
            return np.logical_not(r) if negate else r

        return run

    def text(self) -> str:
        vals = ", ".join(Const(v).text() for v in self.values)
        return f"{self._wrap(self.operand, 4)} {'not in' if self.negate else 'in'} [{vals}]"


@dataclass(frozen=True, eq=False)
class Call(Expr):
    func: str
    args: tuple[Expr, ...]
    kwargs: tuple[tuple[str, Expr], ...] = ()

    def names(self) -> set[str]:
        out: set[str] = set()
        for a in self.args:
            out |= a.names()
        for _, a in self.kwargs:
            out |= a.names()
        return out

    def compile(self) -> Fn:
        fn = FUNCTIONS[self.func].fn
        fs = [a.compile() for a in self.args]
        kfs = [(k, a.compile()) for k, a in self.kwargs]
        if not kfs:
            if len(fs) == 1:
                f0 = fs[0]
                return lambda env: fn(f0(env))
            return lambda env: fn(*[f(env) for f in fs])
        return lambda env: fn(*[f(env) for f in fs], **{k: bool(np.all(f(env))) for k, f in kfs})

    def text(self) -> str:
        parts = [a.text() for a in self.args] + [f"{k}={a.text()}" for k, a in self.kwargs]
        return f"{self.func}({', '.join(parts)})"


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


_CONSTANT_NAMES = {"true": True, "false": False, "True": True, "False": False}


def _const_value(node: ast.AST) -> float | str | bool | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
        v = node.value
        return float(v) if isinstance(v, int) and not isinstance(v, bool) else v
    if isinstance(node, ast.Name) and node.id in _CONSTANT_NAMES:
        return _CONSTANT_NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _const_value(node.operand)
        if isinstance(inner, float):
            return -inner
    return None


def _convert(node: ast.AST) -> Expr:
    col = getattr(node, "col_offset", None)
    off = None if col is None else col + 1  # 1-based, like SyntaxError.offset
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            return Const(v)
        if isinstance(v, (int, float)):
            return Const(float(v))
        if isinstance(v, str):
            return Const(v)
        raise ExprSyntaxError("expression_forbidden", f"constant {v!r} is not allowed", off)
    if isinstance(node, ast.Name):
        if node.id in _CONSTANT_NAMES:
            return Const(_CONSTANT_NAMES[node.id])
        return Name(node.id)
    if isinstance(node, ast.Attribute):
        dotted = _dotted(node)
        if dotted is None:
            raise ExprSyntaxError("expression_forbidden", "attribute access is only allowed in dotted ids", off)
        return Name(dotted)
    if isinstance(node, ast.BinOp):
        spec = _BINOPS.get(type(node.op))
        if spec is None:
            raise ExprSyntaxError("expression_forbidden", f"operator {type(node.op).__name__} is not allowed", off)
        sym, fn, prec = spec
        return Bin(sym, fn, _convert(node.left), _convert(node.right), prec)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub):
            return Neg(_convert(node.operand))
        if isinstance(node.op, ast.UAdd):
            return _convert(node.operand)
        if isinstance(node.op, ast.Not):
            return Not(_convert(node.operand))
        raise ExprSyntaxError("expression_forbidden", f"operator {type(node.op).__name__} is not allowed", off)
    if isinstance(node, ast.BoolOp):
        word = "and" if isinstance(node.op, ast.And) else "or"
        return Logic(word, tuple(_convert(v) for v in node.values))
    if isinstance(node, ast.Compare):
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            right = node.comparators[0]
            if not isinstance(right, (ast.List, ast.Tuple)):
                raise ExprSyntaxError(
                    "expression_forbidden", "'in' needs a literal list on its right, e.g. x in ['a', 'b']", off
                )
            values = []
            for elt in right.elts:
                v = _const_value(elt)
                if v is None:
                    raise ExprSyntaxError("expression_forbidden", "the list after 'in' may hold only constants", off)
                values.append(v)
            return In(_convert(node.left), tuple(values), isinstance(node.ops[0], ast.NotIn))
        ops: list[tuple[str, Callable[[Any, Any], Any]]] = []
        for cmp in node.ops:
            cmp_spec = _CMPOPS.get(type(cmp))
            if cmp_spec is None:
                raise ExprSyntaxError(
                    "expression_forbidden", f"comparison {type(cmp).__name__} is not allowed here", off
                )
            ops.append(cmp_spec)
        return Compare(tuple(ops), tuple(_convert(n) for n in [node.left, *node.comparators]))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExprSyntaxError("expression_forbidden", "only the listed functions may be called", off)
        name = node.func.id
        fspec = FUNCTIONS.get(name)
        if fspec is None:
            import difflib

            near = difflib.get_close_matches(name, FUNCTIONS, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ExprSyntaxError(
                "expression_forbidden",
                f"unknown function {name!r}{hint} (functions: {', '.join(sorted(FUNCTIONS))})",
                off,
            )
        n = len(node.args)
        if n < fspec.min_args or (fspec.max_args is not None and n > fspec.max_args):
            want = str(fspec.min_args) if fspec.max_args == fspec.min_args else f"{fspec.min_args} or more"
            if fspec.max_args not in (None, fspec.min_args):
                want = f"{fspec.min_args} to {fspec.max_args}"
            raise ExprSyntaxError("expression_syntax", f"{name}() takes {want} arguments, got {n}: {fspec.doc}", off)
        kwargs: list[tuple[str, Expr]] = []
        for kw in node.keywords:
            if kw.arg is None or kw.arg not in fspec.keywords:
                raise ExprSyntaxError("expression_syntax", f"{name}() has no option {kw.arg!r}: {fspec.doc}", off)
            kwargs.append((kw.arg, _convert(kw.value)))
        return Call(name, tuple(_convert(a) for a in node.args), tuple(kwargs))
    raise ExprSyntaxError("expression_forbidden", f"{type(node).__name__} is not part of the expression language", off)


def parse_expr(source: str | float | int | bool) -> Expr:
    """Parse an expression (a number or bool is accepted as a constant)."""
    if isinstance(source, bool):
        return Const(source)
    if isinstance(source, (int, float)):
        return Const(float(source))
    text = source.strip()
    if not text:
        raise ExprSyntaxError("expression_syntax", "empty expression")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExprSyntaxError("expression_syntax", f"cannot parse {text!r}: {exc.msg}", exc.offset) from None
    return _convert(tree.body)


def numeric_constants(e: Expr) -> list[float]:
    """Every numeric constant written in an expression (for specs whose conditions must cite their numbers)."""
    if isinstance(e, Const):
        return [e.value] if isinstance(e.value, float) else []
    out: list[float] = []
    for f in dataclasses.fields(e):  # type: ignore[arg-type]
        v = getattr(e, f.name)
        for item in v if isinstance(v, tuple) else (v,):
            for x in item if isinstance(item, tuple) else (item,):
                if isinstance(x, Expr):
                    out += numeric_constants(x)
    return out
