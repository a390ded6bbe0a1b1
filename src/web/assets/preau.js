// Préau: a little plain JavaScript, never required to read a page.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // Buttons that print the page (slips).
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });
  // Search as you type: submit the search form a moment after typing stops.
  document.querySelectorAll("input[data-live-search]").forEach(function (input) {
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        if (input.form) { input.form.requestSubmit(); }
      }, 350);
    });
  });
  // Ask before destructive actions.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
});
