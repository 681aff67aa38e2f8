// Analytics › Exports: the form posts to the JSON API (session cookie + X-CSRF-Token);
// the list of requests and the notifications are polled as HTML in the page's language.
(() => {
  "use strict";
  const { $, $$, T, api } = window.cxport; // api.js
  const form = $("#export-form");
  const fields = form.elements;
  const zones = new Set($$("#zones option").map((o) => o.value));
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const ACTIVE = new Set(["queued", "running"]);

  // -- time zone: the browser's own, when the list has it --------------------------
  if (zones.has(browserZone)) fields.tz.value = browserZone;
  const zoneOk = () => zones.has(fields.tz.value.trim());
  fields.tz.addEventListener("change", () => showError("f-tz-error", fields.tz, !zoneOk()));

  // -- export type: its one-line description and its definition ---------------------
  function showExport() {
    const option = fields.export.selectedOptions[0];
    $("#f-export-about").textContent = option.dataset.summary;
    for (const d of $$(".definition")) d.hidden = d.dataset.export !== option.value;
  }
  fields.export.addEventListener("change", showExport);
  showExport();

  // -- date range: quick choices, as days in the chosen time zone -------------------
  function todayIn(zone) {
    const parts = {};
    const format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    });
    for (const p of format.formatToParts(new Date())) parts[p.type] = p.value;
    return new Date(Date.UTC(+parts.year, +parts.month - 1, +parts.day));
  }
  const iso = (d) => d.toISOString().slice(0, 10);
  const addDays = (d, n) => new Date(d.getTime() + n * 86400000);
  function setRange(kind) {
    const today = todayIn(zoneOk() ? fields.tz.value.trim() : browserZone);
    let from, to;
    if (kind === "yesterday") { from = to = addDays(today, -1); }
    else if (kind === "last7") { from = addDays(today, -7); to = addDays(today, -1); }
    else {
      from = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 1, 1));
      to = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 0));
    }
    fields.from.value = iso(from);
    fields.to.value = iso(to);
    showError("f-range-error", fields.to, false);
  }
  for (const b of $$("[data-range]")) b.addEventListener("click", () => setRange(b.dataset.range));
  setRange("last7");

  function showError(id, field, on) {
    $("#" + id).hidden = !on;
    field.setAttribute("aria-invalid", on ? "true" : "false");
  }

  // -- Generate export --------------------------------------------------------------
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = $("#form-error");
    const status = $("#form-status");
    error.hidden = true;
    const badZone = !zoneOk();
    const badRange = !fields.from.value || !fields.to.value || fields.from.value > fields.to.value;
    showError("f-tz-error", fields.tz, badZone);
    showError("f-range-error", fields.to, badRange);
    if (badZone) return fields.tz.focus();
    if (badRange) return fields.to.focus();
    const format = fields.format.value;
    const body = {
      export: fields.export.value,
      from: fields.from.value,
      to: fields.to.value,
      tz: fields.tz.value.trim(),
      channels: $$('input[name="channels"]:checked', form).map((c) => c.value),
      lang: fields.lang.value,
      format: format === "parquet" ? "parquet" : "csv",
      excel: format === "excel",
    };
    const button = $("#generate");
    button.disabled = true;
    status.textContent = T.sending;
    try {
      const response = await api("POST", "/api/v1/exports", body);
      if (response.status === 202) {
        status.textContent = T.queued;
        fastUntil = Date.now() + 15000;
        refresh();
      } else {
        const answer = await response.json().catch(() => ({}));
        status.textContent = "";
        error.textContent = `${T.refused} ${(answer.error && answer.error.message) || response.status}`;
        error.hidden = false;
      }
    } catch (_) {
      status.textContent = "";
      error.textContent = T.offline;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });

  // -- the live list, the bell and the toasts ---------------------------------------
  const list = $("#requests");
  const notes = $("#notes");
  const bell = $("#bell");
  const count = $("#bell-count");
  const panel = $("#notes-panel");
  let seen = null; // request id → state, after the first poll
  let fastUntil = 0;
  let timer = 0;

  function replace(container, html) {
    if (container.dataset.html === html) return;
    const focused = document.activeElement && container.contains(document.activeElement)
      ? document.activeElement.id : "";
    container.innerHTML = html;
    container.dataset.html = html;
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  }

  function toast(text, ok) {
    const box = document.createElement("div");
    box.className = "toast " + (ok ? "ok" : "bad");
    const p = document.createElement("p");
    p.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "link";
    close.textContent = T.dismiss;
    close.addEventListener("click", () => box.remove());
    box.append(p, close);
    $("#toasts").append(box);
    setTimeout(() => box.remove(), 10000);
  }

  async function refresh() {
    clearTimeout(timer);
    let active = false;
    try {
      const zone = encodeURIComponent(browserZone);
      const response = await fetch(`/analytics/exports/live?tz=${zone}`, {
        credentials: "same-origin", headers: { Accept: "application/json" },
      });
      if (response.status === 401) return window.location.assign("/login");
      const live = await response.json();
      replace(list, live.requests);
      replace(notes, live.notifications);
      bell.setAttribute("aria-label", live.bell_label);
      count.textContent = String(live.unread);
      count.hidden = live.unread === 0;
      active = live.active;
      const now = new Map($$("tr[data-id]", list).map((tr) => [tr.dataset.id, tr]));
      if (seen !== null) {
        for (const [id, tr] of now) {
          const before = seen.get(id);
          if (ACTIVE.has(before) && !ACTIVE.has(tr.dataset.state) && tr.dataset.mine === "1"
              && tr.dataset.toast) {
            toast(tr.dataset.toast, tr.dataset.state === "succeeded");
          }
        }
      }
      seen = new Map(Array.from(now, ([id, tr]) => [id, tr.dataset.state]));
    } catch (_) {
      // the next poll tries again
    }
    const fast = active || Date.now() < fastUntil;
    timer = setTimeout(refresh, fast ? 1000 : document.hidden ? 15000 : 5000);
  }

  list.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-cancel]");
    if (!button) return;
    button.disabled = true;
    await api("POST", `/api/v1/exports/${encodeURIComponent(button.dataset.cancel)}/cancel`);
    refresh();
  });

  async function markRead() {
    const unread = $$("li[data-unread]", notes).map((li) => li.dataset.id);
    await Promise.all(unread.map((id) =>
      api("POST", `/api/v1/notifications/${encodeURIComponent(id)}/read`)));
    if (unread.length) refresh();
  }
  function openPanel(open) {
    panel.hidden = !open;
    bell.setAttribute("aria-expanded", String(open));
    if (open) markRead();
  }
  bell.addEventListener("click", () => openPanel(panel.hidden));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) { openPanel(false); bell.focus(); }
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  refresh();
})();
