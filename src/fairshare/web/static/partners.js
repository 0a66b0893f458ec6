// fairshare workbench: a school's partner plan. The page is rendered by the server; this script edits
// the selection rows, sends changes to the API (with the version the page was rendered at) and reloads.
"use strict";
(() => {
  const root = document.getElementById("plan");
  if (!root) return;
  const school = root.dataset.school;
  const errorBox = document.getElementById("plan-error");
  const body = root.querySelector("#selections tbody");
  let version = Number(root.dataset.version);
  let dirty = false;

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

  function showError(e) {
    const problems = e.error?.problems || [];
    const lines = problems.length > 1 ? problems.map((p) => p.message) : [e.message];
    errorBox.textContent = lines.join("\n");
    if (e.error?.code === "stale_version") errorBox.textContent += "\nReload the page to see the latest version.";
    errorBox.hidden = false;
  }

  async function step(path, payload) {
    const method = path === "selections" ? "PUT" : "POST";
    const p = await fairshare.api(method, `/api/partner-plans/${encodeURIComponent(school)}/${path}`, { version, ...payload });
    version = p.version;
    return p;
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

  root.addEventListener("input", () => { dirty = true; });
  root.addEventListener("click", (ev) => {
    if (ev.target.matches("button.remove")) { ev.target.closest("tr").remove(); dirty = true; }
  });
  document.getElementById("add-partner")?.addEventListener("click", () => {
    body.append(document.getElementById("selection-row").content.cloneNode(true));
    body.lastElementChild.querySelector("input.amount").focus();
    dirty = true;
  });
  document.getElementById("save-selections")?.addEventListener("click", () => run(() => step("selections", { selections: selections() })));
  document.getElementById("submit-plan")?.addEventListener("click", () => run(async () => {
    if (dirty) await step("selections", { selections: selections() });  // what the principal sees is what is submitted
    await step("submit", {});
  }));
  const comment = () => document.getElementById("review-text")?.value || "";
  document.getElementById("approve-plan")?.addEventListener("click", () => run(() => step("approve", { comment: comment() })));
  document.getElementById("return-plan")?.addEventListener("click", () => run(() => step("return", { comment: comment() })));
})();
