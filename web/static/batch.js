// Polls the batch every second while it runs; reloads the page once it has finished (the API
// gives it a finishedAt), so the server renders the result (the page shows it without
// JavaScript as well).
(function () {
  "use strict";
  var root = document.getElementById("batch");
  if (!root || root.getAttribute("data-final") === "true") return;
  var url = root.getAttribute("data-poll-url");
  var statusEl = document.getElementById("batch-status");
  var progress = document.getElementById("batch-progress");
  var progressText = document.getElementById("batch-progress-text");

  function show(batch) {
    if (statusEl.textContent !== batch.status) statusEl.textContent = batch.status;
    var p = batch.progress || {};
    if (p.total) {
      progress.max = p.total;
      progress.value = p.done;
      progressText.textContent = p.done + " of " + p.total + " chunks";
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        // Signed out meanwhile (the session expired): reload, which leads to the sign-in page.
        if (response.status === 401) {
          window.location.reload();
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (batch) {
        if (batch) {
          show(batch);
          if (batch.finishedAt) {
            window.location.reload();
            return;
          }
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 1000); });
  }
  window.setTimeout(poll, 1000);
})();
