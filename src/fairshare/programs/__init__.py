"""Ready-made policies (YAML under ``formulas/``) and the little code they need."""

from pathlib import Path

from fairshare.programs.positions import (
    PositionLine,
    StarterBudget,
    TradeRequest,
    TradeResult,
    apply_trades,
    load_trade_requests,
    starter_budget,
)
from fairshare.programs.synthetic import synthetic_schools, synthetic_students

FORMULAS = Path(__file__).parent / "formulas"
DEMO_FORMULA = FORMULAS / "district-sbb.yaml"

__all__ = [
    "DEMO_FORMULA",
    "FORMULAS",
    "PositionLine",
    "StarterBudget",
    "TradeRequest",
    "TradeResult",
    "apply_trades",
    "load_trade_requests",
    "starter_budget",
    "synthetic_schools",
    "synthetic_students",
]
