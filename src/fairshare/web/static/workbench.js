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
  return { api, money, csrf };
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
