// Turns the page's forms into calls to the demo's JSON API, then reloads.
document.querySelectorAll("form[data-api]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    let url = form.dataset.api;
    let body;
    if (form.dataset.key) url += encodeURIComponent(data.get(form.dataset.key));
    if (form.dataset.body) {
      body = data.get(form.dataset.body);
      try { JSON.parse(body); } catch { body = JSON.stringify(body); } // bare text becomes a string
    }
    if (form.dataset.json) {
      // data-json names the fields of a JSON object; a checkbox gives true or false.
      const fields = form.dataset.json.split(" ").map((name) => {
        const input = form.elements.namedItem(name);
        return [name, input.type === "checkbox" ? input.checked : data.get(name)];
      });
      body = JSON.stringify(Object.fromEntries(fields));
    }
    const res = await fetch(url, { method: form.dataset.method, body, headers: { "Content-Type": "application/json" } });
    if (!res.ok) { alert(`${res.status}: ${await res.text()}`); return; }
    location.reload();
  });
});
