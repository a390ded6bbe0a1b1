// Préau: the marks grid, keyboard first. Arrow keys move between cells,
// Enter moves down, a column (or block) pasted from a spreadsheet fills
// the cells below (and to the right). Each changed cell is saved on its
// own through a queue: one request at a time, retried with a growing
// pause while the network is down, never dropped; the latest value of a
// cell wins. Without JavaScript the grid is a plain form.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var grid = document.querySelector("table[data-grid]");
  if (!grid) { return; }
  var csrf = grid.getAttribute("data-csrf");
  var status = document.getElementById("etat-saisie");
  var rows = Array.prototype.map.call(grid.querySelectorAll("tbody tr"), function (tr) {
    return Array.prototype.slice.call(tr.querySelectorAll("input[data-eval]"));
  });
  var where = new Map();
  rows.forEach(function (cells, r) {
    cells.forEach(function (input, c) {
      where.set(input, [r, c]);
      input.setAttribute("data-saved", input.value);
    });
  });

  // --- the queue: key "eval-student" -> latest value; one request in flight.
  var pending = new Map();
  var order = [];
  var inflight = false;
  var pause = 0;
  var timer = null;

  function show() {
    var n = pending.size + (inflight ? 1 : 0);
    if (!status) { return; }
    if (pause > 0) {
      status.className = "etat hors-ligne";
      status.textContent = "Connexion perdue : " + n + " note(s) en attente, nouvel essai dans " + Math.round(pause / 1000) + " s.";
    } else if (n > 0) {
      status.className = "etat";
      status.textContent = "Enregistrement… (" + n + " en attente)";
    } else {
      status.className = "etat";
      status.textContent = "Toutes les notes sont enregistrées.";
    }
  }

  function enqueue(input) {
    var key = input.getAttribute("data-eval") + "-" + input.getAttribute("data-student");
    if (input.value === input.getAttribute("data-saved") && !pending.has(key)) { return; }
    if (!pending.has(key)) { order.push(key); }
    pending.set(key, input);
    input.classList.add("attente");
    input.classList.remove("enregistre");
    show();
    pump();
  }

  function message(input, text) {
    var td = input.parentNode;
    var span = td.querySelector(".msg");
    if (!text) {
      if (span) { td.removeChild(span); }
      input.removeAttribute("aria-invalid");
      input.classList.remove("invalide");
      return;
    }
    if (!span) { span = document.createElement("span"); span.className = "msg"; td.appendChild(span); }
    span.textContent = text;
    input.setAttribute("aria-invalid", "true");
    input.classList.add("invalide");
  }

  function pump() {
    if (inflight || order.length === 0 || timer) { return; }
    var key = order[0];
    var input = pending.get(key);
    var value = input.value;
    inflight = true;
    var body = new URLSearchParams();
    body.set("csrf", csrf);
    body.set("eleve", input.getAttribute("data-student"));
    body.set("valeur", value);
    fetch("/vie-scolaire/notes/evaluations/" + input.getAttribute("data-eval") + "/cellule", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        return { status: res.status, data: data };
      });
    }).then(function (r) {
      inflight = false;
      if (r.status >= 500 || r.status === 429 || r.data === null) { throw new Error("server " + r.status); }
      pause = 0;
      if (input.value === value) {
        pending.delete(key);
        order.shift();
        input.classList.remove("attente");
      }
      if (r.data.ok) {
        input.setAttribute("data-saved", value);
        message(input, "");
        if (input.value === value) { input.classList.add("enregistre"); }
        var avg = grid.querySelector("td[data-average='" + input.getAttribute("data-student") + "']");
        if (avg) { avg.textContent = r.data.moyenne; }
      } else {
        message(input, r.data.erreur);
      }
      show();
      pump();
    }).catch(function () {
      inflight = false;
      pause = Math.min(pause ? pause * 2 : 1000, 15000);
      show();
      timer = setTimeout(function () { timer = null; pump(); }, pause);
    });
  }

  function focusAt(r, c) {
    var input = rows[r] && rows[r][c];
    if (input) { input.focus(); input.select(); }
  }

  grid.addEventListener("keydown", function (e) {
    var pos = where.get(e.target);
    if (!pos) { return; }
    var r = pos[0], c = pos[1];
    if (e.key === "Enter" || e.key === "ArrowDown") { e.preventDefault(); enqueue(e.target); focusAt(r + 1, c); }
    else if (e.key === "ArrowUp") { e.preventDefault(); enqueue(e.target); focusAt(r - 1, c); }
    else if (e.key === "ArrowLeft" && e.target.selectionStart === 0) { e.preventDefault(); enqueue(e.target); focusAt(r, c - 1); }
    else if (e.key === "ArrowRight" && e.target.selectionEnd === e.target.value.length) { e.preventDefault(); enqueue(e.target); focusAt(r, c + 1); }
  });
  grid.addEventListener("change", function (e) { if (where.has(e.target)) { enqueue(e.target); } });
  var typing = null;
  grid.addEventListener("input", function (e) {
    if (!where.has(e.target)) { return; }
    var input = e.target;
    clearTimeout(typing);
    typing = setTimeout(function () { enqueue(input); }, 800);
  });
  grid.addEventListener("paste", function (e) {
    var pos = where.get(e.target);
    if (!pos || !e.clipboardData) { return; }
    var text = e.clipboardData.getData("text/plain");
    if (text.indexOf("\n") < 0 && text.indexOf("\t") < 0) { return; }
    e.preventDefault();
    var lines = text.replace(/\r/g, "").replace(/\n$/, "").split("\n");
    lines.forEach(function (line, i) {
      line.split("\t").forEach(function (v, j) {
        var input = rows[pos[0] + i] && rows[pos[0] + i][pos[1] + j];
        if (input) { input.value = v.trim(); enqueue(input); }
      });
    });
  });
  window.addEventListener("beforeunload", function (e) {
    if (pending.size > 0 || inflight) { e.preventDefault(); e.returnValue = ""; }
  });
  show();
});
