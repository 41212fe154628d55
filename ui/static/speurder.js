// Upload without leaving the page, then follow the batch until every file has a state.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("upload");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = document.getElementById("upload-status");
    status.textContent = "Bezig met opladen…";
    const token = JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRF-Token"];
    const response = await fetch(form.action, { method: "POST", body: new FormData(form), headers: { "X-CSRF-Token": token } });
    const answer = await response.json();
    if (!response.ok) { status.textContent = answer.detail || "Opladen mislukt"; return; }
    window.location.assign(`/batches/${encodeURIComponent(answer.batch)}`);
  });
});
