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

// The +1 button adds to a counter the server keeps in the session; the
// reply is the new count, which no concurrent click also got.
const clicks = document.getElementById("clicks");
document.querySelectorAll("button[data-incr]").forEach((button) => {
  button.addEventListener("click", async () => {
    const res = await fetch(`/api/incr/${button.dataset.incr}`, { method: "POST" });
    if (!res.ok) { alert(`${res.status}: ${await res.text()}`); return; }
    clicks.textContent = await res.text();
  });
});

// Another tab's clicks show up here within two seconds: the page reads the
// session, which a read does not change or save.
setInterval(async () => {
  if (document.hidden) return;
  const res = await fetch("/api/session");
  if (!res.ok) return;
  const session = await res.json();
  if (typeof session.clicks === "number") clicks.textContent = session.clicks;
}, 2000);
