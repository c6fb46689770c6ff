(function () {
  "use strict";
  var RANK = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
  var dataEl = document.getElementById("report-data");
  var data = dataEl ? JSON.parse(dataEl.textContent) : { findings: [] };
  // The explorer (explorer.js, run right after this) reads the same parsed data.
  window.stackauditData = data;

  // Findings filter: the index says what each finding is; the search reads the finding's own text.
  var form = document.getElementById("finding-filters");
  if (form) {
    var items = data.findings.map(function (f) {
      var el = document.getElementById(f.id);
      return { f: f, el: el, text: el ? el.textContent.toLowerCase() : "" };
    }).filter(function (it) { return it.el; });
    var count = document.getElementById("filter-count");
    var noMatch = document.getElementById("no-match");
    var apply = function () {
      var minSev = form.elements.severity.value;
      var cat = form.elements.category.value;
      var status = form.elements.status.value;
      var tool = form.elements.tool.value;
      var object = form.elements.object ? form.elements.object.value : "";
      var rule = form.elements.rule ? form.elements.rule.value : "";
      var words = form.elements.q.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      items.forEach(function (it) {
        var f = it.f;
        var ok = (!minSev || RANK[f.severity] >= RANK[minSev]) &&
          (!cat || f.category === cat) &&
          (!status || f.status === status) &&
          (!tool || f.tools.indexOf(tool) !== -1) &&
          (!object || (f.objects || []).indexOf(object) !== -1) &&
          (!rule || f.rule === rule) &&
          words.every(function (w) { return it.text.indexOf(w) !== -1; });
        it.el.hidden = !ok;
        if (ok) { shown += 1; }
      });
      document.querySelectorAll(".sev-group, .category").forEach(function (group) {
        group.hidden = !group.querySelector(".finding:not([hidden])");
      });
      if (count) { count.textContent = shown + " of " + items.length + " findings"; }
      if (noMatch) { noMatch.hidden = shown !== 0 || items.length === 0; }
    };
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
    apply();
  }

  // Sortable tables: a header button sorts by the cells' data-sort value, else their text.
  var cellKey = function (row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var raw = cell.getAttribute("data-sort");
    return raw !== null ? raw : cell.textContent.trim().toLowerCase();
  };
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, index) {
      var button = th.querySelector("button");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var numeric = th.classList.contains("num");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellKey(a, index), y = cellKey(b, index);
          var cmp;
          if (numeric) {
            var nx = x === "" ? -Infinity : parseFloat(x), ny = y === "" ? -Infinity : parseFloat(y);
            cmp = nx - ny;
          } else {
            cmp = x.localeCompare(y);
          }
          return asc ? cmp : -cmp;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
