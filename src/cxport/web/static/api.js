// What the page's scripts share: element look-ups, the page's translated strings, and
// calls to the JSON API with the session cookie and the X-CSRF-Token header.
window.cxport = (() => {
  "use strict";
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const csrf = $('meta[name="csrf-token"]').content;
  const T = JSON.parse($("#i18n").textContent);

  async function api(method, path, body) {
    const headers = { Accept: "application/json", "X-CSRF-Token": csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) window.location.assign("/login");
    return response;
  }

  return { $, $$, T, api };
})();
