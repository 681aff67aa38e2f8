// Analytics › Exports › Scheduled: the form and the buttons call the JSON API (session
// cookie + X-CSRF-Token), then the page is loaded again.
(() => {
  "use strict";
  const { $, $$, T, api } = window.cxport; // api.js
  const form = $("#schedule-form");
  const error = $("#schedule-error");

  async function refused(response) {
    try {
      const body = await response.json();
      return body.error.message;
    } catch {
      return response.statusText;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = form.elements;
    const body = {
      name: f.name.value.trim(), export: f.export.value, every: f.every.value,
      tz: f.tz.value.trim() || "UTC", lang: f.lang.value, format: f.format.value,
      include_content: f.include_content.checked, lateness: f.lateness.value.trim() || "5m",
      to: f.to.value.trim(),
      channels: $$('input[name="channels"]:checked', form).map((b) => b.value),
    };
    if (f.since.value) body.since = f.since.value;
    if (f.password.value) body.password = f.password.value;
    if (f.private_key.value.trim()) body.private_key = f.private_key.value;
    error.hidden = true;
    const editing = form.dataset.editing;
    try {
      const response = editing
        ? await api("PATCH", `/api/v1/schedules/${encodeURIComponent(editing)}`, body)
        : await api("POST", "/api/v1/schedules", body);
      if (response.ok) { window.location.reload(); return; }
      error.textContent = await refused(response);
    } catch {
      error.textContent = T.offline;
    }
    error.hidden = false;
  });

  // -- edit: the form takes the schedule's values and saves them with PATCH ----------
  for (const button of $$("button[data-edit]")) {
    button.addEventListener("click", () => {
      const s = JSON.parse(button.dataset.edit);
      const f = form.elements;
      for (const key of ["name", "export", "every", "tz", "lang", "format", "lateness", "to"]) {
        f[key].value = s[key];
      }
      f.include_content.checked = s.include_content;
      for (const box of $$('input[name="channels"]', form)) box.checked = s.channels.includes(box.value);
      f.since.value = ""; f.password.value = ""; f.private_key.value = "";
      form.dataset.editing = s.id;
      $("#schedule-submit").textContent = T.save;
      const note = $("#schedule-editing");
      note.textContent = T.editing.replace("{name}", s.name);
      note.hidden = false;
      f.name.focus();
    });
  }

  for (const button of $$("button[data-action]")) {
    button.addEventListener("click", async () => {
      const { action, id } = button.dataset;
      if (action === "delete" && !window.confirm(T.confirm_delete)) return;
      const path = `/api/v1/schedules/${encodeURIComponent(id)}`;
      const response = action === "delete"
        ? await api("DELETE", path)
        : await api("POST", `${path}/${action}`);
      if (response.ok) window.location.reload();
      else window.alert(await refused(response));
    });
  }
})();
