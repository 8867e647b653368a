// The filter designer's live count: as the criteria change, ask the API what they would match
// (POST /api/v1/filters/preview) and show the count and the first names. The form works the
// same without it (Show who matches).
(function () {
  "use strict";
  var form = document.getElementById("filter-form");
  if (!form) return;
  var url = form.getAttribute("data-preview-url");
  var token = form.querySelector('input[name="csrf_token"]').value;
  var count = document.getElementById("preview-count");
  var sample = document.getElementById("preview-sample");
  var timer = null;
  var asked = 0;

  function kind() {
    var checked = form.querySelector('input[name="kind"]:checked');
    return checked ? checked.value : "student";
  }

  function checkedValues(name) {
    return Array.prototype.map.call(
      form.querySelectorAll('input[name="' + name + '"]:checked'), function (box) {
        return box.value;
      });
  }

  function criteria() {
    var found = {};
    var ids = form.elements.personIds.value.split(/[\n,;\t]/).map(function (id) {
      return id.trim();
    }).filter(function (id) { return id; });
    if (ids.length) found.personIds = ids;
    if (kind() === "student") {
      if (checkedValues("schoolIds").length) found.schoolIds = checkedValues("schoolIds");
      if (checkedValues("grades").length) found.grades = checkedValues("grades");
    } else {
      ["staff", "students", "messengerContacts"].forEach(function (flag) {
        var value = form.elements[flag].value;
        if (value) found[flag] = value === "true";
      });
      var schools = checkedValues("assignmentSchoolIds");
      if (schools.length) found.assignmentSchoolIds = schools;
    }
    return found;
  }

  function show(answer) {
    count.className = "";
    count.textContent = answer.count.toLocaleString("en-US") +
      (answer.count === 1 ? " person matches." : " people match.");
    sample.textContent = "";
    answer.sample.forEach(function (person) {
      var item = document.createElement("li");
      item.textContent = person.lastName + ", " + person.firstName + " (" + person.personId + ")";
      sample.appendChild(item);
    });
  }

  function ask() {
    var mine = ++asked;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify({ kind: kind(), criteria: criteria() }),
    })
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (mine !== asked) return;  // a later question is on its way
        if (answer.error) {
          count.className = "field-error";
          count.textContent = answer.error.message;
          sample.textContent = "";
          return;
        }
        show(answer);
      })
      .catch(function () {});
  }

  function applyKind() {
    ["student", "census"].forEach(function (name) {
      var part = document.getElementById(name + "-criteria");
      part.hidden = kind() !== name;
    });
  }

  function changed() {
    applyKind();
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 250);
  }

  form.addEventListener("change", changed);
  form.addEventListener("input", changed);
  applyKind();
  ask();
})();
