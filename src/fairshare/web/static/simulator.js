// fairshare workbench: the scenario simulator page. Every control change (debounced) posts the
// overrides to /api/scenarios/preview and redraws the tables and the two SVG charts from the answer.
// Text goes in with textContent only (names come from data files); no network beyond this server.
"use strict";
(() => {
  const root = document.getElementById("simulator");
  if (!root) return;
  const boot = JSON.parse(document.getElementById("sim-boot").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const DEBOUNCE_MS = 120;
  const state = { overrides: { ...boot.overrides }, result: null, seq: 0, timer: 0, sort: { key: "change_cents", dir: -1 } };
  const $ = (id) => document.getElementById(id);

  function build(make, tag, attrs, kids) {
    const e = make(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.setAttribute("class", v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
    return e;
  }
  const el = (tag, attrs, ...kids) => build((t) => document.createElement(t), tag, attrs, kids);
  const sv = (tag, attrs, ...kids) => build((t) => document.createElementNS(SVG, t), tag, attrs, kids);

  const money = fairshare.money;
  const signed = (c) => (c > 0 ? "+" : "") + money(c);
  const pct = (x, d = 1) => (x === null || x === undefined ? "—" : (x * 100).toFixed(d) + " %");
  const signedPct = (x) => (x === null || x === undefined ? "—" : (x > 0 ? "+" : "") + (x * 100).toFixed(1) + " %");
  const num = (x) => x.toLocaleString("en-US", { maximumFractionDigits: 1 });
  const dollars = (x) => "$" + x.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const tone = (c) => (c > 0 ? "gain" : c < 0 ? "loss" : null);

  // ------------------------------------------------------------------ controls
  const controls = [...root.querySelectorAll(".param:not(.fixed)")].map((p) => {
    const [range, box] = p.querySelectorAll("input");
    const id = p.dataset.id;
    const inForce = Number(p.dataset.value);
    const show = (v, from) => {
      if (from !== range) range.value = v;
      if (from !== box) box.value = v;
    };
    const set = (v, from) => {
      show(v, from);
      const x = Number(v);
      if (v === "" || !Number.isFinite(x)) return;
      if (x === inForce) delete state.overrides[id];
      else state.overrides[id] = x;
      p.classList.toggle("moved", id in state.overrides);
      schedule();
    };
    range.addEventListener("input", () => set(range.value, range));
    box.addEventListener("input", () => set(box.value, box));
    if (id in state.overrides) { show(state.overrides[id]); p.classList.add("moved"); }
    return { p, id, inForce, show };
  });
  $("reset").addEventListener("click", () => {
    state.overrides = {};
    for (const c of controls) { c.show(c.inForce); c.p.classList.remove("moved"); }
    schedule(0);
  });
  $("model-picker").addEventListener("change", (ev) => ev.target.form.submit());
  $("dataset-file")?.addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    const status = $("dataset-status");
    status.textContent = `Checking ${file.name}…`;
    const bytes = new Uint8Array(await file.arrayBuffer());
    let bin = "";
    for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    try {
      const d = await fairshare.api("POST", "/api/datasets", { model: boot.model, filename: file.name, content_base64: btoa(bin) });
      state.dataset = d.slug;
      status.textContent = `Using ${d.filename}: ${d.rows} rows checked against the formula's columns.`;
      schedule(0);
    } catch (e) {
      state.dataset = null;
      const probs = e.error?.problems?.length ? e.error.problems : [{ message: e.message }];
      status.textContent = `${file.name} was not used: ` + probs.slice(0, 5).map((p) =>
        [p.row ? `row ${p.row}` : "", p.column ? `column ${p.column}` : "", p.value !== undefined ? `“${p.value}”` : "", p.message]
          .filter(Boolean).join(", ")).join("; ") + (probs.length > 5 ? ` (and ${probs.length - 5} more)` : "");
    }
  });

  function schedule(wait = DEBOUNCE_MS) {
    clearTimeout(state.timer);
    state.timer = setTimeout(preview, wait);
  }

  async function preview() {
    const seq = ++state.seq;
    $("status").textContent = "Computing…";
    try {
      const res = state.dataset
        ? await fairshare.api("POST", `/api/datasets/${state.dataset}/preview`, { overrides: state.overrides })
        : await fairshare.api("POST", "/api/scenarios/preview", { model: boot.model, overrides: state.overrides });
      if (seq !== state.seq) return; // a newer request is on its way
      state.result = res;
      $("problems").hidden = true;
      render(res);
      const moved = Object.keys(res.overrides).length;
      $("status").textContent = `Updated: ${res.summary.entities} ${boot.entities}, ${moved} parameter${moved === 1 ? "" : "s"} moved, computed in ${Math.max(1, Math.round(res.elapsed_ms))} ms.`;
    } catch (e) {
      if (seq !== state.seq) return;
      showProblems(e);
      $("status").textContent = "Not updated: the formula cannot run with these values.";
    }
  }

  function showProblems(e) {
    const box = $("problems");
    const probs = e.error?.problems?.length ? e.error.problems : [{ message: e.message }];
    box.replaceChildren(el("ul", {}, ...probs.slice(0, 8).map((p) => el("li", {}, p.message, p.hint ? ` (${p.hint})` : ""))));
    box.hidden = false;
  }

  // ------------------------------------------------------------------ rendering
  function render(res) {
    headline(res);
    changeChart(res);
    needChart(res);
    components(res);
    winners(res);
    equity(res);
    entities(res);
  }

  function card(title, big, ...lines) {
    return el("div", { class: "card stat" }, el("div", { class: "muted small" }, title), el("div", { class: "big" }, big),
      ...lines.map((l) => el("div", { class: "small" }, l)));
  }

  function headline(res) {
    const s = res.summary, w = res.winners_losers;
    const delta = s.total_cents - s.baseline_total_cents;
    const cards = [
      card("Total", money(s.total_cents), `With the values in force: ${money(s.baseline_total_cents)}`,
        el("span", { class: tone(delta) }, delta ? `${signed(delta)} from the sliders` : "unchanged by the sliders")),
      card(`Against ${boot.current_label.toLowerCase()}`, el("span", { class: tone(s.difference_cents) }, signed(s.difference_cents)),
        `${money(s.compared_total_cents)} against ${money(s.current_cents)}`,
        s.new_entities ? `${s.new_entities} new (no current funding) left out` : ""),
      card("Winners / losers", `${w.winners} / ${w.losers}`,
        `${w.unchanged} unchanged${w.new ? `, ${w.new} new` : ""}`,
        el("span", {}, el("span", { class: "gain" }, signed(w.gained_cents)), " / ", el("span", { class: "loss" }, signed(w.lost_cents)))),
    ];
    for (const [pid, v] of Object.entries(s.solved)) {
      const p = boot.params[pid] || { label: pid };
      cards.push(card("Solved by the formula", p.unit && p.unit.startsWith("usd") ? dollars(v) : num(v), p.label,
        s.budget_cents !== null ? `so the total equals the budget ${money(s.budget_cents)}` : ""));
    }
    $("headline").replaceChildren(...cards);
  }

  function changeChart(res) {
    const rows = res.entities.filter((e) => e.change_pct !== null).sort((a, b) => b.change_pct - a.change_pct || a.id.localeCompare(b.id));
    const box = $("chart-change");
    if (!rows.length) { box.replaceChildren(el("p", { class: "muted" }, "No current funding to compare with.")); return; }
    const W = 760, H = 220, L = 56, T = 10, B = 24;
    const hi = Math.max(0, ...rows.map((e) => e.change_pct)), lo = Math.min(0, ...rows.map((e) => e.change_pct));
    const span = hi - lo || 1;
    const y = (v) => T + (hi - v) / span * (H - T - B);
    const bw = (W - L - 4) / rows.length;
    const gains = rows.filter((e) => e.change_cents > 0).length, losses = rows.filter((e) => e.change_cents < 0).length;
    const chart = sv("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "cc-t cc-d", class: "svgchart" },
      sv("title", { id: "cc-t" }, `Change against ${boot.current_label.toLowerCase()}, in percent, every ${boot.entity_kind}`),
      sv("desc", { id: "cc-d" }, `${gains} gain and ${losses} lose; the largest gain is ${signedPct(hi)}, the largest loss ${signedPct(lo)}.`),
      sv("line", { x1: L, x2: W, y1: y(0), y2: y(0), class: "axis" }),
      sv("text", { x: L - 6, y: y(hi) + 4, class: "tick", "text-anchor": "end" }, signedPct(hi)),
      sv("text", { x: L - 6, y: y(lo) + 4, class: "tick", "text-anchor": "end" }, signedPct(lo)),
      sv("text", { x: L - 6, y: y(0) + 4, class: "tick", "text-anchor": "end" }, "0 %"),
      sv("text", { x: L, y: H - 6, class: "tick" }, `${rows.length} ${boot.entities}, largest gain to largest loss`),
      ...rows.map((e, i) => {
        const top = y(Math.max(0, e.change_pct)), h = Math.max(0.5, Math.abs(y(e.change_pct) - y(0)));
        return sv("rect", { x: L + 2 + i * bw, y: top, width: Math.max(0.6, bw - (bw > 3 ? 1 : 0)), height: h, class: e.change_cents >= 0 ? "bar-gain" : "bar-loss" },
          sv("title", {}, `${e.name}: ${signedPct(e.change_pct)} (${signed(e.change_cents)})`));
      }));
    box.replaceChildren(chart);
  }

  function needChart(res) {
    const box = $("chart-need");
    const rows = res.entities.filter((e) => e.need !== null && e.per_pupil_cents !== null && e.pupils > 0);
    if (!rows.length) { box.replaceChildren(el("p", { class: "muted" }, "This formula states no need measure.")); return; }
    const cur = (e) => (e.current_cents !== null ? e.current_cents / 100 / e.pupils : null);
    const ys = rows.flatMap((e) => [e.per_pupil_cents / 100, cur(e)]).filter((v) => v !== null);
    const W = 760, H = 260, L = 70, T = 10, B = 34, R = 10;
    const xmax = Math.max(0.01, ...rows.map((e) => e.need));
    const xmin = Math.min(Math.floor(Math.min(...rows.map((e) => e.need)) * 10) / 10, xmax - 0.01);
    const ymin = Math.min(...ys), ymax = Math.max(...ys);
    const yspan = ymax - ymin || 1;
    const x = (v) => L + (v - xmin) / (xmax - xmin) * (W - L - R);
    const y = (v) => T + (ymax - v) / yspan * (H - T - B);
    const dot = (e, v, cls) => sv("circle", { cx: x(e.need), cy: y(v), r: 3.5, class: cls },
      sv("title", {}, `${e.name}: ${dollars(v)} per pupil, ${boot.need_label} ${pct(e.need)}`));
    const chart = sv("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "cn-t cn-d", class: "svgchart" },
      sv("title", { id: "cn-t" }, `Funding per pupil against need, every ${boot.entity_kind}`),
      sv("desc", { id: "cn-d" }, `Filled: this scenario; hollow: ${boot.current_label.toLowerCase()}. Per pupil from ${dollars(ymin)} to ${dollars(ymax)}.`),
      sv("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis" }),
      sv("line", { x1: L, x2: L, y1: T, y2: H - B, class: "axis" }),
      sv("text", { x: L - 6, y: y(ymax) + 4, class: "tick", "text-anchor": "end" }, dollars(ymax)),
      sv("text", { x: L - 6, y: y(ymin) + 4, class: "tick", "text-anchor": "end" }, dollars(ymin)),
      sv("text", { x: L, y: H - B + 16, class: "tick" }, pct(xmin, 0)),
      sv("text", { x: W - R, y: H - B + 16, class: "tick", "text-anchor": "end" }, pct(xmax)),
      sv("text", { x: (L + W) / 2, y: H - 4, class: "tick", "text-anchor": "middle" }, boot.need_label),
      ...rows.filter((e) => cur(e) !== null).map((e) => dot(e, cur(e), "pt-current")),
      ...rows.map((e) => dot(e, e.per_pupil_cents / 100, "pt-model")));
    const legend = el("p", { class: "small legend" }, el("span", { class: "key model" }), " this scenario  ",
      el("span", { class: "key current" }), ` ${boot.current_label.toLowerCase()}`);
    box.replaceChildren(chart, legend);
  }

  function table(id, head, rows, foot) {
    const t = $(id);
    t.replaceChildren(el("thead", {}, el("tr", {}, ...head)), el("tbody", {}, ...rows), ...(foot ? [el("tfoot", {}, foot)] : []));
  }
  const th = (text, numeric) => el("th", { scope: "col", class: numeric ? "num" : null }, text);
  const td = (text, cls) => el("td", { class: cls || null }, text);

  function components(res) {
    const s = res.summary;
    table("components",
      [th("Component"), th("Base"), th("Weight"), th("Eligible", true), th(`${boot.entities[0].toUpperCase()}${boot.entities.slice(1)} getting it`, true), th("Amount", true), th("From the sliders", true)],
      s.components.map((c) => {
        const d = c.amount_cents - c.baseline_cents;
        return el("tr", {}, td(c.label), td(c.base), td(c.weight), td(c.eligible, "num"), td(c.entities, "num"),
          td(money(c.amount_cents), "num"), td(d ? signed(d) : "—", `num ${tone(d) || ""}`));
      }),
      el("tr", {}, el("th", { scope: "row", colspan: 5 }, "Total"), td(money(s.total_cents), "num total"),
        td(signed(s.total_cents - s.baseline_total_cents), "num total")));
  }

  function changeTable(title, rows) {
    if (!rows.length) return el("div", {}, el("h4", {}, title), el("p", { class: "muted" }, "None."));
    return el("div", {}, el("h4", {}, title), el("div", { class: "scroll" }, el("table", {},
      el("thead", {}, el("tr", {}, th("Name"), th("Current", true), th("Scenario", true), th("Change", true), th("%", true))),
      el("tbody", {}, ...rows.map((r) => el("tr", {}, td(r.name), td(money(r.current_cents), "num"), td(money(r.total_cents), "num"),
        td(signed(r.change_cents), `num ${tone(r.change_cents) || ""}`), td(signedPct(r.change_pct), `num ${tone(r.change_cents) || ""}`)))))));
  }

  function winners(res) {
    const w = res.winners_losers;
    $("winners").replaceChildren(changeTable("Largest gains", w.biggest_gains), changeTable("Largest losses", w.biggest_losses));
  }

  const DOLLAR_METRICS = new Set(["mean", "median", "p5", "p95", "minimum", "maximum", "range", "restricted_range", "need_slope",
    "need_lowest_quartile_mean", "need_highest_quartile_mean"]);
  const METRIC_NAMES = {
    mean: "Mean", median: "Median", p5: "5th percentile", p95: "95th percentile", minimum: "Lowest", maximum: "Highest",
    range: "Range", restricted_range: "Restricted range", federal_range_ratio: "Federal range ratio",
    coefficient_of_variation: "Coefficient of variation", mcloone: "McLoone index", verstegen: "Verstegen index",
    gini: "Gini index", theil: "Theil index",
  };
  const metricName = (key) => METRIC_NAMES[key] || key[0].toUpperCase() + key.slice(1).replaceAll("_", " ");
  function metricText(key, m) {
    if (!m || m.value === null || m.value === undefined) return m && m.note ? `— (${m.note})` : "—";
    return DOLLAR_METRICS.has(key) ? dollars(m.value) : m.value.toFixed(4);
  }

  function equity(res) {
    const model = res.equity.model, current = res.equity.current;
    if (!Object.keys(model.metrics).length) {
      table("equity", [th("Metric")], [el("tr", {}, td(model.note || "Not enough units to compare."))]);
      return;
    }
    table("equity", [th("Metric"), th("This scenario", true), th(boot.current_label, true), th("What it measures")],
      Object.entries(model.metrics).map(([key, m]) => el("tr", {}, td(metricName(key)), td(metricText(key, m), "num"),
        td(current ? metricText(key, current.metrics[key]) : "—", "num"), td(m.definition, "small muted"))),
      el("tr", {}, el("td", { colspan: 4, class: "small muted" },
        `${model.n} ${boot.entities} measured` + (model.excluded ? `, ${model.excluded} left out (no pupils or no funding)` : ""))));
  }

  const COLUMNS = [
    ["id", "Id", false], ["name", "Name", false], ["pupils", "Pupils", true], ["total_cents", "Scenario", true],
    ["per_pupil_cents", "Per pupil", true], ["current_cents", "Current", true], ["change_cents", "Change", true],
    ["change_pct", "Change %", true], ["slider_cents", "From the sliders", true],
  ];
  function entities(res) {
    const { key, dir } = state.sort;
    const val = (e) => (key === "slider_cents" ? e.total_cents - e.baseline_cents : e[key]);
    const rows = [...res.entities].sort((a, b) => {
      const x = val(a), y = val(b);
      if (x === null && y === null) return a.id.localeCompare(b.id);
      if (x === null) return 1;
      if (y === null) return -1;
      return (typeof x === "string" ? x.localeCompare(y) : x - y) * dir || a.id.localeCompare(b.id);
    });
    const head = COLUMNS.map(([k, label, numeric]) => {
      const sorted = k === key ? (dir > 0 ? "ascending" : "descending") : null;
      const b = el("button", { type: "button", class: "sort" }, label, sorted ? (dir > 0 ? " ▲" : " ▼") : "");
      b.addEventListener("click", () => {
        state.sort = { key: k, dir: k === key ? -dir : numeric ? -1 : 1 };
        entities(state.result);
      });
      return el("th", { scope: "col", class: numeric ? "num" : null, "aria-sort": sorted }, b);
    });
    table("entities", head, rows.map((e) => {
      const s = e.total_cents - e.baseline_cents;
      return el("tr", {}, td(el("code", {}, e.id)), td(e.name), td(num(e.pupils), "num"), td(money(e.total_cents), "num"),
        td(e.per_pupil_cents === null ? "—" : money(e.per_pupil_cents), "num"),
        td(e.current_cents === null ? "new" : money(e.current_cents), "num"),
        td(e.change_cents === null ? "—" : signed(e.change_cents), `num ${tone(e.change_cents) || ""}`),
        td(signedPct(e.change_pct), `num ${tone(e.change_cents) || ""}`),
        td(s ? signed(s) : "—", `num ${tone(s) || ""}`));
    }));
  }

  // ------------------------------------------------------------------ save, share, compare
  $("save").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const out = $("saved");
    const name = $("scenario-name").value.trim();
    try {
      const sc = await fairshare.api("POST", "/api/scenarios", { name, model: boot.model, overrides: state.overrides });
      const link = new URL(sc.url, window.location.origin).href;
      out.className = "";
      out.replaceChildren("Saved. Share link: ", el("a", { href: sc.url, id: "share-link" }, link), " · export ",
        el("a", { href: `/api/scenarios/${sc.slug}/export.csv` }, "CSV"), " · ", el("a", { href: `/api/scenarios/${sc.slug}/export.xlsx` }, "Excel"));
      const list = $("mine");
      list.querySelector(".empty")?.remove();
      list.prepend(mineItem(sc));
    } catch (e) {
      out.className = "error";
      out.textContent = e.message;
    }
    out.hidden = false;
  });
  // one of "My scenarios", as the page renders it
  function mineItem(sc) {
    const exp = (kind, label) => el("a", { href: `/api/scenarios/${sc.slug}/export.${kind}` }, label);
    const act = (name, label) => el("button", { type: "button", class: "linkish", "data-act": name, "aria-label": `${label} “${sc.name}”` }, name);
    return el("li", { "data-slug": sc.slug },
      el("label", { class: "inline" }, el("input", { type: "checkbox", name: "s", value: sc.slug }), " ", el("span", { class: "sc-name" }, sc.name)),
      " ", el("span", { class: "muted small" }, `${sc.model_label}, ${sc.created_at.slice(0, 10)}`),
      " · ", el("a", { href: sc.url }, "open"), " · ", exp("csv", "CSV"), " · ", exp("xlsx", "Excel"),
      " · ", act("rename", "Rename"), " · ", act("delete", "Delete"));
  }
  $("mine").addEventListener("click", async (ev) => {
    const button = ev.target.closest("button[data-act]");
    if (!button) return;
    const item = button.closest("li"), slug = item.dataset.slug, name = item.querySelector(".sc-name").textContent;
    try {
      if (button.dataset.act === "rename") {
        const wanted = window.prompt(`New name for “${name}”`, name);
        if (wanted === null || wanted.trim() === "" || wanted.trim() === name) return;
        const sc = await fairshare.api("PATCH", `/api/scenarios/${slug}`, { name: wanted.trim() });
        item.replaceWith(mineItem(sc));
        $("mine-status").textContent = `Renamed to “${sc.name}”.`;
      } else if (window.confirm(`Delete “${name}”? Its share link will stop working.`)) {
        await fairshare.api("DELETE", `/api/scenarios/${slug}`);
        item.remove();
        if (!$("mine").children.length) $("mine").append(el("li", { class: "muted empty" }, "None saved yet."));
        $("mine-status").textContent = `Deleted “${name}”.`;
      }
    } catch (e) {
      $("mine-status").textContent = e.message;
    }
  });
  $("compare").addEventListener("submit", (ev) => {
    const picked = ev.target.querySelectorAll("input[name=s]:checked").length;
    if (picked < 2) {
      ev.preventDefault();
      $("status").textContent = "Choose two or more of your scenarios (of one model) to compare.";
    }
  });

  preview();
})();
