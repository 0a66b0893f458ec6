"""The outputs of ``fairshare identify``: identification.csv, changes.csv, tiers.csv, grant.csv,
report.html and manifest.json. Money is written from integer cents as exact decimal text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from fairshare import __version__
from fairshare.programs.identify import Identification, summary
from fairshare.programs.identify_grant import GRANT_ROUNDING
from fairshare.programs.identify_reasons import label_of, value_text
from fairshare.programs.identify_schema import AllOf, AnyOf, Cond, Node, Not, Rank, leaves
from fairshare.report.html import environment, money
from fairshare.report.outputs import display_path, sha256_file
from fairshare.rules.money import dollars_text

__all__ = ["RANK_RULE", "identification_frame", "rule_lines", "write_identify"]

RANK_RULE = (
    "bottom N: rank 1 = the lowest value; top N: rank 1 = the highest; ranks are computed each year among the "
    "universe's entities that have a value (tier rules: among the identified entities). Ties share the better "
    "rank (competition ranking: 1, 2, 2, 4), so every entity tied at the cut is within it and a rule can "
    "select more than N; the rank does not depend on row order. Lists show the identified first, by tier, "
    "then by name and id."
)


def _yes(a: np.ndarray) -> list[str]:
    return ["yes" if bool(x) else "no" for x in a]


def identification_frame(result: Identification) -> pl.DataFrame:
    """One row per entity of the run year: identification, status, tiers, each rule's value/rank/pass, reasons."""
    rules = result.rules
    order = result.order()
    data: dict[str, Any] = {"id": result.ids[order].astype(str), "name": result.names[order].astype(str)}
    if result.year is not None:
        data["year"] = [result.year] * len(order)
    data["in_universe"] = _yes(result.in_universe[order])
    data["identified"] = _yes(result.identified[order])
    data["status"] = result.status[order].astype(str)
    if result.previous is not None:
        data["previously_identified"] = _yes(result.previous.identified[order])
        if result.previous.tier is not None:
            data["previous_tier"] = result.previous.tier[order].astype(str)
    for k, sid in enumerate(rules.model.tiers):
        data["tier" if k == 0 else f"tier_{sid}"] = result.tiers[sid][order].astype(str)
    for leaf in leaves(rules.rule):
        lr = result.leaves[leaf.id]
        if isinstance(leaf, Rank):
            data[f"{leaf.id}_value"] = [None if lr.missing[j] else float(lr.value[j]) for j in order]
            assert lr.rank is not None
            data[f"{leaf.id}_rank"] = [int(lr.rank[j]) if lr.rank[j] else None for j in order]
        else:
            data[f"{leaf.id}_value"] = _yes(lr.value[order])
        data[f"{leaf.id}_pass"] = _yes(lr.passed[order])
    data["reasons"] = [result.reasons[j] for j in order]
    for k, sid in enumerate(rules.model.tiers):
        data["tier_reason" if k == 0 else f"tier_{sid}_reason"] = [result.tier_reasons[sid][j] for j in order]
    return pl.DataFrame(data, strict=False)


def changes_frame(result: Identification) -> pl.DataFrame | None:
    if result.previous is None:
        return None
    order = [j for j in result.order() if result.status[j] in ("entered", "stayed", "transition", "left")]
    rank = {"entered": 0, "left": 1, "transition": 2, "stayed": 3}
    order.sort(key=lambda j: (rank[str(result.status[j])], str(result.names[j]), str(result.ids[j])))
    first = next(iter(result.rules.model.tiers), None)
    data: dict[str, Any] = {
        "id": [str(result.ids[j]) for j in order],
        "name": [str(result.names[j]) for j in order],
        "change": [str(result.status[j]) for j in order],
    }
    if result.previous.tier is not None:
        data["previous_tier"] = [str(result.previous.tier[j]) for j in order]
    if first is not None:
        data["tier"] = [str(result.tiers[first][j]) for j in order]
    data["reasons"] = [result.reasons[j] for j in order]
    return pl.DataFrame(data, schema={k: pl.String for k in data})


def tiers_frame(result: Identification) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    s = summary(result)
    for sid, levels in s["tiers"].items():
        for lv in levels:
            names = sorted(str(result.names[j]) for j in np.flatnonzero(result.tiers[sid] == lv["tier"]))
            rows.append({"scheme": sid, **lv, "names": "; ".join(names)})
        rows.append(
            {
                "scheme": sid,
                "tier": "total",
                "label": result.rules.model.tiers[sid].label,
                "attendees": "",
                "entities": sum(lv["entities"] for lv in levels),
                "meetings_per_year": None,
                "total_meetings": sum(lv["total_meetings"] for lv in levels),
                "names": "",
            }
        )
    schema: dict[str, Any] = {"scheme": pl.String, "tier": pl.String, "label": pl.String, "attendees": pl.String}
    schema |= {"entities": pl.Int64, "meetings_per_year": pl.Float64, "total_meetings": pl.Float64, "names": pl.String}
    return pl.DataFrame(rows, schema=schema)


def grant_frame(result: Identification) -> pl.DataFrame | None:
    g = result.grant
    if g is None:
        return None
    spec = result.rules.model.grant
    assert spec is not None
    first = next(iter(result.rules.model.tiers), None)
    rows: list[dict[str, Any]] = []
    for j in result.order():
        if not g.recipients[j]:
            continue
        imp = g.improvement[j]
        rows.append(
            {
                "id": str(result.ids[j]),
                "name": str(result.names[j]),
                "tier": str(result.tiers[first][j]) if first else "",
                "base_weight": float(g.base_weight[j]),
                "base": dollars_text(int(g.base_cents[j])),
                "improvement": None if np.isnan(imp) else float(imp),
                "incentive_rank": int(g.incentive_rank[j]) or None,
                "incentive": dollars_text(int(g.incentive_cents[j])),
                "total": dollars_text(int(g.base_cents[j] + g.incentive_cents[j])),
            }
        )
    empty = {"tier": "", "base_weight": None, "improvement": None, "incentive_rank": None}
    rows.append(
        {
            "id": "",
            "name": "administration (retained)",
            **empty,
            "base": "0.00",
            "incentive": "0.00",
            "total": dollars_text(g.admin_cents),
        }
    )
    rows.append(
        {
            "id": "",
            "name": "total",
            **empty,
            "base": dollars_text(int(g.base_cents.sum())),
            "incentive": dollars_text(int(g.incentive_cents.sum())),
            "total": dollars_text(g.total_cents),
        }
    )
    schema: dict[str, Any] = {"id": pl.String, "name": pl.String, "tier": pl.String}
    schema |= {"base_weight": pl.Float64, "base": pl.String}
    schema |= {"improvement": pl.Float64, "incentive_rank": pl.Int64, "incentive": pl.String, "total": pl.String}
    return pl.DataFrame(rows, schema=schema)


def rule_lines(result: Identification, node: Node, depth: int = 0) -> list[tuple[int, str]]:
    """The rule tree as indented lines of text (depth, line)."""
    rules = result.rules
    if isinstance(node, Rank):
        n = int(rules.params[node.count].value)
        return [
            (
                depth,
                f"{node.label}: {node.direction} {n} ({node.count}) by {label_of(rules, node.by)}"
                + _missing_text(node.missing),
            )
        ]
    if isinstance(node, Cond):
        return [(depth, f"{node.label}: {node.text}" + _missing_text(node.missing))]
    if isinstance(node, Not):
        return [(depth, "not:" + (f" {node.label}" if node.label else "")), *rule_lines(result, node.child, depth + 1)]
    head = "any of" if isinstance(node, AnyOf) else "all of"
    assert isinstance(node, (AnyOf, AllOf))
    out = [(depth, f"{head}:" + (f" {node.label}" if node.label else ""))]
    for c in node.children:
        out += rule_lines(result, c, depth + 1)
    return out


def _missing_text(policy: str) -> str:
    return " (no value: not met)" if policy == "not_met" else ""


def write_identify(
    result: Identification, out_dir: Path, rules_path: Path, tables: dict[str, Path], previous: Path | None
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    frames: dict[str, pl.DataFrame | None] = {
        "identification.csv": identification_frame(result),
        "changes.csv": changes_frame(result),
        "tiers.csv": tiers_frame(result),
        "grant.csv": grant_frame(result),
    }
    paths: list[Path] = []
    for name, frame in frames.items():
        if frame is not None:
            paths.append(out_dir / name)
            frame.write_csv(paths[-1])
    paths.append(out_dir / "report.html")
    paths[-1].write_text(_html(result, frames), encoding="utf-8")
    rules = result.rules
    manifest: dict[str, Any] = {
        "format": "fairshare.identify-manifest/1",
        "package_version": __version__,
        "rules": {"path": display_path(rules_path), "sha256": sha256_file(rules_path)},
        "inputs": {tid: {"path": str(p), "sha256": sha256_file(p)} for tid, p in tables.items()},
        "previous": None if previous is None else {"path": str(previous), "sha256": sha256_file(previous)},
        "summary": summary(result),
        "parameters": {
            pid: {"value": p.value, "unit": p.unit, "reference": p.reference.cite()} for pid, p in rules.params.items()
        },
        "rank_rule": RANK_RULE,
        "rounding_rule": GRANT_ROUNDING,
        "notes": result.notes + (result.grant.notes if result.grant is not None else []),
        "outputs": {p.name: sha256_file(p) for p in paths},
    }
    paths.append(out_dir / "manifest.json")
    paths[-1].write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return paths


def _html(result: Identification, frames: dict[str, pl.DataFrame | None]) -> str:
    rules = result.rules
    m = rules.model
    s = summary(result)
    ident = frames["identification.csv"]
    assert ident is not None
    first = next(iter(m.tiers), None)
    entities = [
        {
            "id": r["id"],
            "name": r["name"],
            "identified": r["identified"] == "yes",
            "status": r["status"],
            "tier": (m.tiers[first].levels[r["tier"]].label if first and r["tier"] else ""),
            "reasons": r["reasons"],
            "tier_reason": r.get("tier_reason", ""),
        }
        for r in ident.iter_rows(named=True)
    ]
    grant = None
    if result.grant is not None and m.grant is not None:
        g = result.grant
        gf = frames["grant.csv"]
        assert gf is not None
        grant = {
            "spec": m.grant,
            "total": money(g.total_cents),
            "admin": money(g.admin_cents),
            "incentive": money(int(g.incentive_cents.sum())),
            "base": money(int(g.base_cents.sum())),
            "folded": g.folded,
            "rows": [
                {
                    **r,
                    "base": money(_cents(r["base"])),
                    "incentive": money(_cents(r["incentive"])),
                    "total": money(_cents(r["total"])),
                }
                for r in gf.iter_rows(named=True)
                if r["id"]
            ],
        }
    params = [(pid, p, value_text(rules, pid, p.value)) for pid, p in m.parameters.items()]
    return (
        environment()
        .get_template("identify.html.j2")
        .render(
            m=m,
            s=s,
            kind=m.entity.kind,
            universe=list(m.universe.values()),
            rule=rule_lines(result, rules.rule),
            params=params,
            tiers=s["tiers"],
            schemes=m.tiers,
            changes=None if frames["changes.csv"] is None else frames["changes.csv"].to_dicts(),
            entities=entities,
            grant=grant,
            rank_rule=RANK_RULE,
            rounding=GRANT_ROUNDING,
            notes=result.notes + (result.grant.notes if result.grant is not None else []),
            exit_after=None if not (m.exit and m.exit.after_years) else int(rules.params[m.exit.after_years].value),
            lookback=None if m.lookback is None else int(rules.params[m.lookback.years].value),
            version=__version__,
        )
    )


def _cents(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    whole, frac = text.lstrip("-").split(".")
    return sign * (int(whole) * 100 + int(frac))
