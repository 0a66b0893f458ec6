// fairshare workbench: a school's partner plan. The page is rendered by the server; this script edits
// the selection rows, sends changes to the API (with the version the page was rendered at) and reloads.
"use strict";
(() => {
  const root = document.getElementById("plan");
  if (!root) return;
  const school = root.dataset.school;
  const body = root.querySelector("#selections tbody");

  // "1,234.5" or "$1234.50" -> 123450 cents (no floating point)
  function cents(text) {
    const t = text.replace(/[$,\s]/g, "");
    const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(t);
    if (!m) throw new Error(`the amount "${text}" is not dollars and cents`);
    return Number(m[1]) * 100 + Number((m[2] || "0").padEnd(2, "0"));
  }

  function selections() {
    return [...body.querySelectorAll("tr.selection")].map((row) => ({
      partner_id: row.querySelector("select.partner").value,
      amount_cents: cents(row.querySelector("input.amount").value),
    }));
  }

  const plan = fairshare.reviewedPlan({
    root,
    errorBox: document.getElementById("plan-error"),
    base: `/api/partner-plans/${encodeURIComponent(school)}`,
    edit: "selections",
    collect: () => ({ selections: selections() }),
    buttons: { save: "save-selections", submit: "submit-plan", approve: "approve-plan", return: "return-plan" },
  });
  root.addEventListener("click", (ev) => {
    if (ev.target.matches("button.remove")) { ev.target.closest("tr").remove(); plan.markDirty(); }
  });
  document.getElementById("add-partner")?.addEventListener("click", () => {
    body.append(document.getElementById("selection-row").content.cloneNode(true));
    body.lastElementChild.querySelector("input.amount").focus();
    plan.markDirty();
  });
})();
