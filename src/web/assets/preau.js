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
// School life, daily: the roll's running count, and the office's live list.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-roll]").forEach(function (f) {
    var out = f.querySelector("[data-roll-count]");
    function count() {
      var n = { absent: 0, late: 0, excluded: 0 };
      f.querySelectorAll("input[type=radio]:checked").forEach(function (r) {
        if (n[r.value] !== undefined) { n[r.value] += 1; }
        var fs = r.closest("fieldset");
        if (fs) { fs.classList.toggle("marked", r.value !== "present"); }
      });
      if (out) {
        out.textContent = n.absent + " absent(s), " + n.late + " retard(s), " + n.excluded + " exclu(s)";
      }
    }
    f.addEventListener("change", function (e) {
      count();
      // Late: straight to the minutes.
      if (e.target.type === "radio" && e.target.value === "late") {
        var fs = e.target.closest("fieldset");
        var m = fs && fs.querySelector("input[type=number]");
        if (m) { m.focus(); }
      }
    });
    count();
  });
  // A fragment read again every few seconds (never while a form in it is in use).
  document.querySelectorAll("[data-live]").forEach(function (el) {
    var url = el.getAttribute("data-live");
    var every = (parseInt(el.getAttribute("data-live-every"), 10) || 15) * 1000;
    setInterval(function () {
      if (document.hidden || el.contains(document.activeElement)) { return; }
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null && !el.contains(document.activeElement)) { el.innerHTML = html; } })
        .catch(function () {});
    }, every);
  });
});
