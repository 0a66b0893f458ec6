// fairshare workbench: the principal budget builder. The page is rendered by the server; this script
// sends the changes to the API (with the version the page was rendered at) and reloads the page.
"use strict";
(() => {
  const root = document.getElementById("budget");
  if (!root) return;
  const school = root.dataset.school;
  const errorBox = document.getElementById("budget-error");
  let version = Number(root.dataset.version);
  let dirty = false;

  function showError(e) {
    const problems = e.error?.problems || [];
    const lines = problems.length > 1 ? problems.map((p) => p.message) : [e.message];
    errorBox.textContent = lines.join("\n");
    errorBox.hidden = false;
    if (e.error?.code === "stale_version") errorBox.textContent += "\nReload the page to see the latest version.";
  }

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

  async function step(path, body) {
    const b = await fairshare.api(path.startsWith("trades") ? "PUT" : "POST", `/api/budgets/${encodeURIComponent(school)}/${path}`, { version, ...body });
    version = b.version;
    return b;
  }

  async function run(action) {
    errorBox.hidden = true;
    for (const b of root.querySelectorAll("button")) b.disabled = true;
    try {
      await action();
      window.location.reload();
    } catch (e) {
      showError(e);
      for (const b of root.querySelectorAll("button")) b.disabled = false;
    }
  }

  root.addEventListener("input", (ev) => { if (ev.target.matches("input")) dirty = true; });
  document.getElementById("save-trades")?.addEventListener("click", () => run(() => step("trades", { trades: trades() })));
  document.getElementById("submit-budget")?.addEventListener("click", () => run(async () => {
    if (dirty) await step("trades", { trades: trades() });  // what the principal sees is what is submitted
    await step("submit", {});
  }));
  const comment = () => document.getElementById("review-text")?.value || "";
  document.getElementById("approve-budget")?.addEventListener("click", () => run(() => step("approve", { comment: comment() })));
  document.getElementById("return-budget")?.addEventListener("click", () => run(() => step("return", { comment: comment() })));
})();
