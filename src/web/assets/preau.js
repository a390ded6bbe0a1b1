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
  // Countdowns (a firewall change waiting for its confirmation): the
  // seconds shown in the page, counted down; without JavaScript the page
  // shows the seconds left when it was made.
  document.querySelectorAll("[data-countdown]").forEach(function (el) {
    var left = parseInt(el.getAttribute("data-countdown"), 10);
    if (isNaN(left)) { return; }
    var end = Date.now() + left * 1000;
    var tick = function () {
      var s = Math.max(0, Math.round((end - Date.now()) / 1000));
      el.textContent = String(s);
      if (s > 0) { setTimeout(tick, 1000); }
    };
    setTimeout(tick, 1000);
  });
});
