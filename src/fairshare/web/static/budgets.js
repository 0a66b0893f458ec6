// fairshare workbench: the principal budget builder. The page is rendered by the server; this script
// sends the changes to the API (with the version the page was rendered at) and reloads the page.
"use strict";
(() => {
  const root = document.getElementById("budget");
  if (!root) return;
  const school = root.dataset.school;

  function trades() {
    const out = [];
    for (const row of root.querySelectorAll("#positions tbody tr[data-role]")) {
      const input = row.querySelector("input.fte-change");
      if (!input) continue;
      const fte = Number(input.value || 0);
      if (!Number.isFinite(fte)) throw new Error(`the FTE change of ${row.dataset.role} is not a number`);
      if (fte === 0) continue;
      const note = row.querySelector("input.trade-note")?.value.trim();
      out.push(note ? { role: row.dataset.role, fte, note } : { role: row.dataset.role, fte });
    }
    return out;
  }

  fairshare.reviewedPlan({
    root,
    errorBox: document.getElementById("budget-error"),
    base: `/api/budgets/${encodeURIComponent(school)}`,
    edit: "trades",
    collect: () => ({ trades: trades() }),
    buttons: { save: "save-trades", submit: "submit-budget", approve: "approve-budget", return: "return-budget" },
  });
})();
