// fairshare workbench: the API helper every page uses (JSON bodies, the CSRF header, one error shape).
"use strict";
const fairshare = (() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
  async function api(method, path, body) {
    const opts = { method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (method !== "GET") opts.headers["X-CSRF-Token"] = csrf();
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    const r = await fetch(path, opts);
    const data = r.status === 204 ? null : await r.json();
    if (!r.ok) { const e = new Error(data?.error?.message || r.statusText); e.error = data?.error; throw e; }
    return data;
  }
  const money = (cents) => (cents < 0 ? "-$" : "$") + (Math.abs(cents) / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });

  // The page of a reviewed school plan (a budget, a partner plan), rendered by the server. Each step is
  // sent to `${base}/${step}` with the version the page was rendered at, then the page reloads, or the
  // API's problems are shown in `errorBox`. `edit` is the step that replaces the plan's rows (PUT, with
  // `collect()`'s body); submitting first saves edits not yet saved, so what is seen is what is submitted.
  function reviewedPlan({ root, errorBox, base, edit, collect, buttons }) {
    let version = Number(root.dataset.version);
    let dirty = false;
    function showError(e) {
      const problems = e.error?.problems || [];
      const lines = problems.length > 1 ? problems.map((p) => p.message) : [e.message];
      errorBox.textContent = lines.join("\n");
      if (e.error?.code === "stale_version") errorBox.textContent += "\nReload the page to see the latest version.";
      errorBox.hidden = false;
    }
    async function step(path, body) {
      const p = await api(path === edit ? "PUT" : "POST", `${base}/${path}`, { version, ...body });
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
    const markDirty = () => { dirty = true; };
    const comment = () => document.getElementById("review-text")?.value || "";
    const on = (id, action) => document.getElementById(id)?.addEventListener("click", () => run(action));
    root.addEventListener("input", (ev) => { if (ev.target.matches("input, select")) markDirty(); });
    on(buttons.save, () => step(edit, collect()));
    on(buttons.submit, async () => {
      if (dirty) await step(edit, collect());
      await step("submit", {});
    });
    on(buttons.approve, () => step("approve", { comment: comment() }));
    on(buttons.return, () => step("return", { comment: comment() }));
    return { markDirty };
  }
  return { api, money, csrf, reviewedPlan };
})();

document.getElementById("login")?.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const f = ev.target, err = f.querySelector(".error");
  try {
    await fairshare.api("POST", "/api/login", { email: f.email.value, password: f.password.value });
    window.location.assign("/");
  } catch (e) { err.textContent = e.message; err.hidden = false; }
});
document.getElementById("sign-out")?.addEventListener("click", async () => {
  await fairshare.api("POST", "/api/logout"); window.location.assign("/");
});
