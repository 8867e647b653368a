// Progressive help for the batch wizard; the form works the same without it.
(function () {
  "use strict";
  var form = document.getElementById("wizard");
  if (!form) return;
  var scope = document.getElementById("scope-fields");
  var year = document.getElementById("schoolYear");
  var school = document.getElementById("schoolId");
  var calendar = document.getElementById("calendarId");
  var filter = document.getElementById("filterId");

  // Census/Staff has no scope and takes census filters; the other modes take student filters.
  function modeValue() {
    var checked = form.querySelector('input[name="mode"]:checked');
    return checked ? checked.value : "";
  }

  function applyMode() {
    var census = modeValue() === "census";
    scope.hidden = census;
    scope.disabled = census;
    var kind = census ? "census" : "student";
    Array.prototype.forEach.call(filter.querySelectorAll("optgroup"), function (group) {
      var wrong = group.getAttribute("data-kind") !== kind;
      group.hidden = wrong;
      group.disabled = wrong;
    });
    var selected = filter.selectedOptions[0];
    if (selected && selected.parentElement.disabled) filter.value = "";
  }

  // Only the calendars of the chosen year and school.
  function applyScope() {
    Array.prototype.forEach.call(calendar.options, function (option) {
      if (!option.value) return;
      var wrong = (year.value && option.getAttribute("data-year") !== year.value) ||
        (school.value && option.getAttribute("data-school") !== school.value);
      option.hidden = !!wrong;
      option.disabled = !!wrong;
    });
    if (calendar.selectedOptions[0] && calendar.selectedOptions[0].disabled) calendar.value = "";
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.classList && target.classList.contains("option")) {
      target.setAttribute("data-value", target.value);
    }
    if (target.name === "mode") applyMode();
    if (target === year || target === school) applyScope();
  });
  // One submission per showing of the form: a second click while the first is on its way is
  // dropped here (and the server returns the first batch for a resent form anyway).
  var submitting = false;
  form.addEventListener("submit", function (event) {
    if (submitting) {
      event.preventDefault();
      return;
    }
    submitting = true;
    form.setAttribute("aria-busy", "true");
  });
  // Back to this page from the browser's cache: it may be sent again.
  window.addEventListener("pageshow", function () {
    submitting = false;
    form.removeAttribute("aria-busy");
  });

  // "Whole row" and "Whole column" shortcuts: a select that sets every cell of its channel or
  // reason at once. They have no name, so the form never sends them.
  var matrix = document.getElementById("changes");
  function shortcut(label, cells) {
    var select = document.createElement("select");
    select.setAttribute("aria-label", label);
    select.className = "shortcut";
    [["", "Set all…"], ["noChange", "No Change"], ["on", "On"], ["off", "Off"]].forEach(
      function (pair) {
        var option = document.createElement("option");
        option.value = pair[0];
        option.textContent = pair[1];
        select.appendChild(option);
      });
    select.addEventListener("change", function (event) {
      event.stopPropagation();
      if (!select.value) return;
      cells().forEach(function (cell) {
        cell.value = select.value;
        cell.setAttribute("data-value", select.value);
      });
      select.value = "";
    });
    return select;
  }
  if (matrix) {
    var head = matrix.tHead.rows[0];
    var corner = document.createElement("th");
    corner.scope = "col";
    corner.textContent = "Whole row";
    head.appendChild(corner);
    Array.prototype.forEach.call(matrix.tBodies[0].rows, function (row) {
      var cell = document.createElement("td");
      var name = row.cells[0].textContent.trim();
      cell.appendChild(shortcut("Whole row: " + name, function () {
        return Array.prototype.slice.call(row.querySelectorAll("select.option"));
      }));
      row.appendChild(cell);
    });
    var foot = matrix.createTFoot().insertRow();
    var title = document.createElement("th");
    title.scope = "row";
    title.textContent = "Whole column";
    foot.appendChild(title);
    for (var column = 1; column < head.cells.length - 1; column += 1) {
      (function (index) {
        var cell = foot.insertCell();
        var name = head.cells[index].textContent.trim();
        cell.appendChild(shortcut("Whole column: " + name, function () {
          return Array.prototype.map.call(matrix.tBodies[0].rows, function (row) {
            return row.cells[index].querySelector("select.option");
          });
        }));
      })(column);
    }
    foot.insertCell();
  }

  applyMode();
  applyScope();
})();
