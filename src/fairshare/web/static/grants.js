// fairshare workbench: grant plans and draw-downs (pages /grants and /grants/<id>), over /api/grants.
// Money is typed in dollars and sent as integer cents, parsed from the text (never through float).
"use strict";
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const FLASH = "fairshare-grant-flash";

  // "12,000.5" -> 1200050; null when the text is not an amount of dollars and cents
  function cents(text) {
    const t = String(text).replace(/[$,\s]/g, "");
    const m = /^(\d{1,11})(?:\.(\d{0,2}))?$/.exec(t);
    if (!m) return null;
    return Number(m[1]) * 100 + Number((m[2] || "").padEnd(2, "0"));
  }
  const dollars = (c) => fairshare.money(c).replace("$", "");

  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }

  function showError(e) {
    const box = $("#grant-error");
    if ($("#grant-ok")) $("#grant-ok").hidden = true;  // an earlier success is not the news now
    box.replaceChildren();
    box.append(el("p", { text: e.message }));
    const probs = (e.error && e.error.problems) || [];
    if (probs.length > 1 || (probs.length === 1 && probs[0].message !== e.message)) {
      box.append(el("ul", {}, ...probs.map((p) => el("li", { text: (p.column ? p.column + ": " : "") + p.message }))));
    } else if (probs.length === 1 && probs[0].hint) {
      box.append(el("p", { class: "hint", text: "Fix: " + probs[0].hint + "." }));
    }
    if (e.error && e.error.code === "stale_version") {
      const a = el("a", { href: location.pathname, text: "Reload the plan" });
      box.append(el("p", {}, a));
    }
    box.hidden = false;
    box.scrollIntoView({ block: "center" });
  }
  const fail = (message) => { const e = new Error(message); e.error = { problems: [] }; throw e; };
  function flashThenReload(message) { sessionStorage.setItem(FLASH, message); location.reload(); }
  const flash = sessionStorage.getItem(FLASH);
  if (flash && $("#grant-ok")) { $("#grant-ok").textContent = flash; $("#grant-ok").hidden = false; sessionStorage.removeItem(FLASH); }

  // ---- list page: start a plan
  $("#new-plan")?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      const award = cents(f.award.value);
      if (award === null) fail(`the award "${f.award.value}" is not an amount in dollars (e.g. 150,000.00)`);
      const plan = await fairshare.api("POST", "/api/grants/plans", { fiscal_year: Number(f.fiscal_year.value), award_cents: award });
      location.assign(`/grants/${plan.id}`);
    } catch (e) { showError(e); }
  });

  const dataNode = $("#grant-data");
  if (!dataNode) return;
  const { plan, schools, bands } = JSON.parse(dataNode.textContent);

  // ---- editor: strategies, goals, lines as rows of inputs
  const ROWS = {
    strategy: (x = {}) => el("div", { class: "edit-row strategy" },
      el("label", {}, "Title", el("input", { name: "title", value: x.title || "", required: "" })),
      el("label", { class: "wide" }, "Description", el("input", { name: "description", value: x.description || "" }))),
    goal: (x = {}) => el("div", { class: "edit-row goal" },
      el("label", { class: "wide" }, "Indicator", el("input", { name: "indicator", value: x.indicator || "", required: "" })),
      el("label", {}, "Unit", el("input", { name: "unit", value: x.unit || "", size: "8" })),
      el("label", {}, "Baseline", el("input", { name: "baseline", value: x.baseline ?? "", inputmode: "decimal", size: "7" })),
      el("label", {}, "Target", el("input", { name: "target", value: x.target ?? "", inputmode: "decimal", size: "7" })),
      el("label", {}, "By FY", el("input", { name: "year", type: "number", value: x.year ?? plan.fiscal_year, min: "2000", max: "2100" }))),
    line: (x = {}) => {
      const school = el("select", { name: "school_id" }, el("option", { value: "", text: "District-wide" }),
        ...schools.map((s) => el("option", { value: s.id, text: `${s.id} ${s.name}` })));
      school.value = x.school_id || "";
      const codes = el("select", { name: "object_code" }, ...bands.map((b) =>
        el("optgroup", { label: `${b.first}–${b.last} ${b.label} (tolerance ${b.pct}%)` },
          ...[0, 10, 20, 30, 40, 50, 60, 70, 80, 90].map((d) => b.first + d).filter((n) => n <= b.last)
            .map((n) => el("option", { value: String(n), text: `${n} ${b.label}` })))));
      if (x.object_code && !$$("option", codes).some((o) => o.value === x.object_code)) {
        codes.append(el("option", { value: x.object_code, text: x.object_code }));
      }
      codes.value = x.object_code || "610";
      const row = el("div", { class: "edit-row line" },
        el("label", {}, "School", school), el("label", {}, "Object", codes),
        el("label", { class: "wide" }, "Role or purpose", el("input", { name: "role", value: x.role || "" })),
        el("label", {}, "FTE", el("input", { name: "fte", value: x.fte ?? 0, inputmode: "decimal", size: "4" })),
        el("label", {}, "Amount ($)", el("input", { name: "amount", value: x.amount_cents !== undefined ? dollars(x.amount_cents) : "", inputmode: "decimal", size: "11" })));
      if (x.id) row.dataset.id = x.id;
      if (x.carried_cents) row.append(el("small", { class: "muted", text: `holds ${fairshare.money(x.carried_cents)} carried` }));
      return row;
    },
    item: () => el("div", { class: "edit-row item" },
      el("label", { class: "wide" }, "Item", el("input", { name: "description" })),
      el("label", {}, "Amount ($)", el("input", { name: "amount", inputmode: "decimal", size: "11" }))),
  };
  function addRow(kind, container, x) {
    const row = ROWS[kind](x);
    const remove = el("button", { type: "button", class: "secondary remove", title: "Remove", "aria-label": "Remove" }, "×");
    remove.addEventListener("click", () => row.remove());
    row.append(remove);
    container.append(row);
    return row;
  }
  $$("[data-add]").forEach((b) => b.addEventListener("click", () => {
    const kind = b.dataset.add;
    const container = kind === "item" ? $(".item-rows") : $(`[data-rows="${kind}"]`);
    addRow(kind, container)?.querySelector("input, select")?.focus();
  }));

  const editor = $("#editor");
  if (editor) {
    editor.award.value = dollars(plan.award_cents);
    plan.strategies.forEach((x) => addRow("strategy", $('[data-rows="strategy"]'), x));
    plan.goals.forEach((x) => addRow("goal", $('[data-rows="goal"]'), x));
    plan.lines.forEach((x) => addRow("line", $('[data-rows="line"]'), x));
  }
  const num = (input, what) => {
    const v = input.value.trim();
    if (v === "" || !Number.isFinite(Number(v))) fail(`${what}: "${input.value}" is not a number`);
    return Number(v);
  };
  function editedPlan() {
    const award = cents(editor.award.value);
    if (award === null) fail(`the award "${editor.award.value}" is not an amount in dollars`);
    const strategies = $$(".edit-row.strategy", editor).map((r) => ({ title: r.querySelector("[name=title]").value.trim(), description: r.querySelector("[name=description]").value.trim() }));
    const goals = $$(".edit-row.goal", editor).map((r, i) => ({
      indicator: r.querySelector("[name=indicator]").value.trim(), unit: r.querySelector("[name=unit]").value.trim(),
      baseline: num(r.querySelector("[name=baseline]"), `goal ${i + 1} baseline`), target: num(r.querySelector("[name=target]"), `goal ${i + 1} target`),
      year: num(r.querySelector("[name=year]"), `goal ${i + 1} year`),
    }));
    const lines = $$(".edit-row.line", editor).map((r, i) => {
      const amount = cents(r.querySelector("[name=amount]").value);
      if (amount === null) fail(`budget line ${i + 1}: "${r.querySelector("[name=amount]").value}" is not an amount in dollars`);
      const line = { school_id: r.querySelector("[name=school_id]").value || null, object_code: r.querySelector("[name=object_code]").value,
        role: r.querySelector("[name=role]").value.trim(), fte: num(r.querySelector("[name=fte]"), `budget line ${i + 1} FTE`), amount_cents: amount };
      if (r.dataset.id) line.id = Number(r.dataset.id);
      return line;
    });
    return { version: plan.version, award_cents: award, strategies, goals, lines };
  }
  editor?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { await fairshare.api("PUT", `/api/grants/plans/${plan.id}`, editedPlan()); flashThenReload("The draft is saved."); }
    catch (e) { showError(e); }
  });
  $("#submit-plan")?.addEventListener("click", async () => {
    try {
      const saved = await fairshare.api("PUT", `/api/grants/plans/${plan.id}`, editedPlan());
      await fairshare.api("POST", `/api/grants/plans/${plan.id}/submit`, { version: saved.version });
      flashThenReload("The plan is submitted to the state.");
    } catch (e) { showError(e); }
  });

  // ---- review (state)
  const review = $("#review");
  async function decide(action, message) {
    try {
      await fairshare.api("POST", `/api/grants/plans/${plan.id}/${action}`, { version: plan.version, comment: review.comment.value });
      flashThenReload(message);
    } catch (e) { showError(e); }
  }
  $("#request-changes")?.addEventListener("click", () => decide("request-changes", "Changes requested: the plan is back with the district."));
  $("#approve")?.addEventListener("click", () => decide("approve", "The plan is approved: the district can draw down."));

  // ---- draw-down (district)
  $("#drawdown")?.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = ev.target;
    try {
      const amount = cents(f.amount.value);
      if (amount === null || amount === 0) fail(`"${f.amount.value}" is not an amount in dollars (e.g. 1,250.00)`);
      const items = $$(".edit-row.item", f).map((r, i) => {
        const c = cents(r.querySelector("[name=amount]").value);
        if (c === null) fail(`item ${i + 1}: "${r.querySelector("[name=amount]").value}" is not an amount in dollars`);
        return { description: r.querySelector("[name=description]").value.trim(), amount_cents: c };
      });
      const r = await fairshare.api("POST", `/api/grants/lines/${f.line.value}/drawdowns`, { amount_cents: amount, backup: f.backup.value, items });
      flashThenReload(`Drew ${fairshare.money(amount)} on line ${r.line.id} (${r.line.object_code} ${r.line.role}); ${fairshare.money(r.line.available_cents)} left on the line.`);
    } catch (e) { showError(e); }
  });

  // ---- carry forward (district)
  $("#carry-forward")?.addEventListener("click", async () => {
    try {
      const r = await fairshare.api("POST", `/api/grants/plans/${plan.id}/carry-forward`, { version: plan.version });
      flashThenReload(r.to_plan_id ? `Carried ${fairshare.money(r.carried_cents)} to the FY ${plan.fiscal_year + 1} plan; this plan is closed.` : "Nothing was left to carry; this plan is closed.");
    } catch (e) { showError(e); }
  });
})();
