// The channel's live page in the admin (viewers/admin/live.py): keeps "N viewers watching now" up to date by asking
// its JSON every data-seconds seconds. A file, since the admin's CSP allows no inline script. A failed poll keeps
// the last count and says when it was read.
const count = document.getElementById("watching-now");
const updated = document.getElementById("watching-updated");

async function poll() {
  try {
    const response = await fetch(count.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(String(response.status));
    const data = await response.json();
    count.textContent = data.said;
    count.dataset.sessions = data.sessions;
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}.`;
  } catch {
    updated.textContent = `Could not update at ${new Date().toLocaleTimeString()}; trying again.`;
  }
}

if (count) setInterval(poll, Math.max(Number(count.dataset.seconds) || 30, 1) * 1000);
