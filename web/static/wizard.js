// Progressive help for the batch wizard; the form works the same without it.
(function () {
  "use strict";
  var form = document.getElementById("wizard");
  if (!form) return;
  var mode = document.getElementById("mode");
  var scope = document.getElementById("scope-fields");
  var year = document.getElementById("schoolYear");
  var school = document.getElementById("schoolId");
  var calendar = document.getElementById("calendarId");
  var filter = document.getElementById("filterId");

  // Census/Staff has no scope and takes census filters; the other modes take student filters.
  function applyMode() {
    var census = mode.value === "census";
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
    if (target === mode) applyMode();
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

  applyMode();
  applyScope();
})();
