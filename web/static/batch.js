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

  var labels = JSON.parse(root.getAttribute("data-status-labels") || "{}");

  function count(n) { return n.toLocaleString("en-US"); }

  function show(batch) {
    var label = labels[batch.status] || batch.status;
    if (statusEl.textContent !== label) statusEl.textContent = label;
    var people = (batch.progress || {}).people || {};
    if (people.total) {
      progress.max = people.total;
      progress.value = people.done;
      progressText.textContent = count(people.done) + " of " + count(people.total) +
        (people.total === 1 ? " person" : " people");
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
