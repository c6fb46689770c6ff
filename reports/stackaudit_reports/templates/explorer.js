(function () {
  "use strict";
  // Field explorer and field impact. The fields arrive once, as arrays in the JSON island (see _fields.py for the
  // layout); only the visible page is ever turned into table rows, and every string goes in as text, never markup.
  var data = window.stackauditData || {};
  var fx = data.fields;
  var root = document.documentElement;
  var markReady = function () {
    window.stackauditReadyAt = window.performance ? performance.now() : 0;
    root.setAttribute("data-explorer-ready", "1");
  };
  if (!fx) { markReady(); return; }

  var C = { tool: 0, object: 1, name: 2, label: 3, type: 4, fill: 5, method: 6, refs: 7, mapped: 8, owner: 9,
    findings: 10, flags: 11, id: 12 };
  var FLAG = { custom: 1, calculated: 2, hidden: 4, archived: 8, notInventoried: 16 };
  var FLAG_NAMES = [[FLAG.custom, "custom"], [FLAG.calculated, "calculated"], [FLAG.hidden, "hidden"],
    [FLAG.archived, "archived"], [FLAG.notInventoried, "not inventoried"]];
  var READ = { complete: true, partial: true };
  var rows = fx.rows;
  var n = rows.length;

  var fieldId = function (i) {
    var r = rows[i];
    return r.length > C.id ? r[C.id] : fx.tools[r[C.tool]][0] + ":" + fx.objects[r[C.object]] + "." + r[C.name];
  };
  var toolName = function (t) { return t < 0 ? "" : fx.tools[t][1]; };
  var byId = null;
  var rowOf = function (id) {
    if (!byId) {
      byId = new Map();
      for (var i = 0; i < n; i += 1) { byId.set(fieldId(i), i); }
    }
    return byId.get(id);
  };
  var el = function (tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  };
  var fillText = function (r) {
    var pm = r[C.fill];
    if (pm < 0) { return r[C.method] >= 0 ? "unknown" : "—"; }
    if (pm > 0 && pm < 10) { return "<1%"; }
    return Math.round(pm / 10) + "%";
  };
  var fmt = function (x) { return x.toLocaleString("en-US"); };

  // ------------------------------------------------------------------------------------------ explorer
  var form = document.getElementById("field-filters");
  var table = document.getElementById("field-table");
  var body = table ? table.tBodies[0] : null;
  var count = document.getElementById("field-count");
  var pageLabel = document.getElementById("field-page");
  var state = { page: 0, size: 50, key: "", dir: 1, selected: -1 };
  var filtered = [];
  var hay = null;
  var sortKeys = {};

  var haystack = function () {
    if (!hay) {
      hay = new Array(n);
      for (var i = 0; i < n; i += 1) { hay[i] = (fieldId(i) + "\u0001" + rows[i][C.label]).toLowerCase(); }
    }
    return hay;
  };
  var keyOf = function (key) {
    if (sortKeys[key]) { return sortKeys[key]; }
    var out = new Array(n), i, r;
    for (i = 0; i < n; i += 1) {
      r = rows[i];
      if (key === "name") { out[i] = (r[C.label] || r[C.name]).toLowerCase(); }
      else if (key === "tool") { out[i] = toolName(r[C.tool]).toLowerCase(); }
      else if (key === "object") { out[i] = fx.objects[r[C.object]].toLowerCase(); }
      else if (key === "type") { out[i] = r[C.type] < 0 ? "" : fx.types[r[C.type]].toLowerCase(); }
      else if (key === "owner") { out[i] = toolName(r[C.owner]).toLowerCase(); }
      else { out[i] = r[C[key]]; }
    }
    sortKeys[key] = out;
    return out;
  };
  var matchesShow = function (r, i, show) {
    if (!show) { return true; }
    if (show === "custom") { return (r[C.flags] & FLAG.custom) !== 0; }
    if (show === "findings") { return r[C.findings] > 0; }
    if (show === "unreferenced") { return r[C.refs] === 0 && r[C.mapped] === 0 && !(r[C.flags] & FLAG.notInventoried); }
    if (show === "empty") { return r[C.fill] === 0; }
    if (show === "unknown-fill") { return r[C.fill] < 0 && !(r[C.flags] & FLAG.notInventoried); }
    if (show === "linked") { return Object.prototype.hasOwnProperty.call(fx.impact, String(i)); }
    if (show === "not-inventoried") { return (r[C.flags] & FLAG.notInventoried) !== 0; }
    return true;
  };

  var applyFilter = function () {
    var f = form.elements;
    var tool = f.tool.value === "" ? -1 : Number(f.tool.value);
    var object = f.object.value === "" ? -1 : Number(f.object.value);
    var type = f.type.value === "" ? -1 : Number(f.type.value);
    var show = f.show.value;
    var words = f.q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var texts = words.length ? haystack() : null;
    var out = [];
    for (var i = 0; i < n; i += 1) {
      var r = rows[i];
      if (tool >= 0 && r[C.tool] !== tool) { continue; }
      if (object >= 0 && r[C.object] !== object) { continue; }
      if (type >= 0 && r[C.type] !== type) { continue; }
      if (!matchesShow(r, i, show)) { continue; }
      if (texts) {
        var t = texts[i], ok = true;
        for (var w = 0; w < words.length; w += 1) { if (t.indexOf(words[w]) === -1) { ok = false; break; } }
        if (!ok) { continue; }
      }
      out.push(i);
    }
    filtered = out;
    sortRows();
    state.page = 0;
    render();
  };
  var sortRows = function () {
    if (!state.key) { return; }  // the view model's order: tool, object, field
    var keys = keyOf(state.key), dir = state.dir;
    filtered.sort(function (a, b) {
      var x = keys[a], y = keys[b];
      if (x < y) { return -dir; }
      if (x > y) { return dir; }
      return a - b;
    });
  };

  var cell = function (tr, text, cls) { var td = el("td", cls, text); tr.appendChild(td); return td; };
  var flagText = function (flags) {
    return FLAG_NAMES.filter(function (p) { return flags & p[0]; }).map(function (p) { return p[1]; }).join(" · ");
  };
  var rowElement = function (i) {
    var r = rows[i], tr = el("tr");
    tr.setAttribute("data-row", String(i));
    if (i === state.selected) { tr.className = "selected"; }
    var first = el("td");
    var pick = el("button", "linklike", r[C.label] || r[C.name]);
    pick.type = "button";
    pick.setAttribute("data-row", String(i));
    first.appendChild(pick);
    var sub = el("span", "sub");
    sub.appendChild(el("code", null, fieldId(i)));
    var flags = flagText(r[C.flags]);
    if (flags) { sub.appendChild(el("span", "flags", " " + flags)); }
    first.appendChild(sub);
    tr.appendChild(first);
    cell(tr, toolName(r[C.tool]));
    cell(tr, fx.objects[r[C.object]]);
    cell(tr, r[C.type] < 0 ? "—" : fx.types[r[C.type]]);
    var fill = cell(tr, fillText(r), "num");
    if (r[C.method] >= 0) { fill.appendChild(el("span", "sub", fx.methods[r[C.method]])); }
    var refs = cell(tr, fmt(r[C.refs]), "num");
    if (!READ[fx.tools[r[C.tool]][3]]) {
      refs.className = "num dim";
      refs.title = "No source read this tool's references: a zero here is not evidence.";
      refs.textContent = fmt(r[C.refs]) + "?";
    }
    cell(tr, fmt(r[C.mapped]), "num");
    cell(tr, r[C.owner] < 0 ? "—" : toolName(r[C.owner]), r[C.owner] < 0 ? "dim" : null);
    var fc = cell(tr, r[C.findings] ? "" : "0", "num");
    if (r[C.findings]) { fc.appendChild(el("span", "pill bad", r[C.findings])); }
    return tr;
  };
  var render = function () {
    var pages = Math.max(1, Math.ceil(filtered.length / state.size));
    state.page = Math.min(Math.max(state.page, 0), pages - 1);
    var start = state.page * state.size, end = Math.min(start + state.size, filtered.length);
    var frag = document.createDocumentFragment();
    for (var k = start; k < end; k += 1) { frag.appendChild(rowElement(filtered[k])); }
    if (!filtered.length) {
      var tr = el("tr"), td = el("td", "note", "No fields match the filter.");
      td.colSpan = 9;
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    body.replaceChildren(frag);
    var range = filtered.length ? fmt(start + 1) + "–" + fmt(end) : "0";
    count.textContent = range + " of " + fmt(filtered.length) + " fields" + (filtered.length !== n ? " (" + fmt(n) + " in all)" : "");
    pageLabel.textContent = "Page " + fmt(state.page + 1) + " of " + fmt(pages);
  };

  if (form && body) {
    var timer = null;
    var populateObjects = function () {
      var tool = form.elements.tool.value;
      var select = form.elements.object;
      var list = tool === "" ? null : fx.toolObjects[tool] || [];
      var seen = {};
      if (!list) {
        list = [];
        Object.keys(fx.toolObjects).forEach(function (t) {
          fx.toolObjects[t].forEach(function (o) { if (!seen[o]) { seen[o] = true; list.push(o); } });
        });
        list.sort(function (a, b) { return fx.objects[a].toLowerCase() < fx.objects[b].toLowerCase() ? -1 : 1; });
      }
      var frag = document.createDocumentFragment();
      frag.appendChild(el("option", null, "Any")).value = "";
      list.forEach(function (o) { frag.appendChild(el("option", null, fx.objects[o])).value = String(o); });
      select.replaceChildren(frag);
    };
    form.addEventListener("submit", function (e) { e.preventDefault(); });
    form.addEventListener("input", function (e) {
      if (e.target.name === "q") {
        clearTimeout(timer);
        timer = setTimeout(applyFilter, 120);
      }
    });
    form.addEventListener("change", function (e) {
      if (e.target.name === "size") { state.size = Number(e.target.value) || 50; render(); return; }
      if (e.target.name === "tool") { populateObjects(); }
      if (e.target.name !== "q") { applyFilter(); }
    });
    table.tHead.addEventListener("click", function (e) {
      var th = e.target.closest("th[data-key]");
      if (!th) { return; }
      var key = th.getAttribute("data-key");
      state.dir = state.key === key ? -state.dir : (th.classList.contains("num") ? -1 : 1);
      state.key = key;
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
      sortRows();
      state.page = 0;
      render();
    });
    document.getElementById("field-pager").addEventListener("click", function (e) {
      var b = e.target.closest("button[data-page]");
      if (!b) { return; }
      var to = b.getAttribute("data-page");
      state.page = to === "first" ? 0 : to === "prev" ? state.page - 1 : to === "next" ? state.page + 1 : Infinity;
      if (state.page === Infinity) { state.page = Math.ceil(filtered.length / state.size) - 1; }
      render();
    });
    body.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-row]");
      if (b) { showImpact(Number(b.getAttribute("data-row")), true); }
    });
    populateObjects();
    filtered = [];
    for (var i = 0; i < n; i += 1) { filtered.push(i); }
    render();
  }

  // -------------------------------------------------------------------------------------------- impact
  var panel = document.getElementById("impact-panel");
  var nodeInfo = function (x) {
    if (x < n) {
      var r = rows[x];
      return { row: x, id: fieldId(x), label: r[C.label] || r[C.name], tool: r[C.tool], kind: "field",
        missing: (r[C.flags] & FLAG.notInventoried) !== 0 };
    }
    var m = fx.nodes[x - n];
    return { row: -1, id: m[0], label: m[2], tool: m[3], kind: m[1], missing: m[4] === 1 };
  };
  var nodeItem = function (x, via) {
    var info = nodeInfo(x), li = el("li");
    if (info.row >= 0) {
      var b = el("button", "linklike", info.label);
      b.type = "button";
      b.setAttribute("data-row", String(info.row));
      li.appendChild(b);
    } else {
      li.appendChild(el("span", "node-label", info.label || info.kind));
    }
    li.appendChild(el("code", null, info.id));
    var bits = [];
    if (info.kind !== "field") { bits.push(info.kind); }
    if (via >= 0) { bits.push("via " + fx.integrations[via][1]); }
    if (info.missing) { bits.push("not inventoried"); }
    if (bits.length) { li.appendChild(el("span", "sub", bits.join(" · "))); }
    return li;
  };
  var column = function (title, items, pairs, total) {
    var div = el("div", "impact-col");
    var shown = pairs ? items.length / 2 : items.length;
    var head = el("h4", null, title + " ");
    var tools = {};
    var groups = [];
    for (var k = 0; k < shown; k += 1) {
      var x = pairs ? items[2 * k] : items[k], via = pairs ? items[2 * k + 1] : -1;
      var t = nodeInfo(x).tool;
      if (!tools[t]) { tools[t] = []; groups.push(t); }
      tools[t].push(nodeItem(x, via));
    }
    head.appendChild(el("span", "dim", "(" + fmt(total === undefined ? shown : total) + (groups.length > 1 ? " in " + groups.length + " tools" : "") + ")"));
    div.appendChild(head);
    if (!shown) { div.appendChild(el("p", "note", "None seen.")); }
    groups.forEach(function (t) {
      div.appendChild(el("h5", null, toolName(t) || "?"));
      var ul = el("ul", "nodes");
      tools[t].forEach(function (li) { ul.appendChild(li); });
      div.appendChild(ul);
    });
    if (total !== undefined && total > shown) { div.appendChild(el("p", "note", fmt(total - shown) + " more not listed.")); }
    return div;
  };
  var showImpact = function (i, scroll) {
    if (!panel) { return; }
    var frag = document.createDocumentFragment();
    if (i === undefined || i < 0) {
      frag.appendChild(el("p", "note", "No such field in this snapshot."));
      panel.replaceChildren(frag);
      return;
    }
    state.selected = i;
    if (body) {
      Array.prototype.forEach.call(body.rows, function (tr) {
        tr.classList.toggle("selected", tr.getAttribute("data-row") === String(i));
      });
    }
    var r = rows[i];
    var h = el("h3", null, (r[C.label] || r[C.name]) + " ");
    h.appendChild(el("code", null, fieldId(i)));
    frag.appendChild(h);
    var facts = [toolName(r[C.tool]), fx.objects[r[C.object]], r[C.type] < 0 ? "type unknown" : fx.types[r[C.type]],
      "filled " + fillText(r) + (r[C.method] >= 0 ? " (" + fx.methods[r[C.method]] + ")" : ""),
      fmt(r[C.refs]) + " references", fmt(r[C.mapped]) + " mappings"];
    if (r[C.owner] >= 0) { facts.push("created by " + toolName(r[C.owner])); }
    var flags = flagText(r[C.flags]);
    if (flags) { facts.push(flags); }
    frag.appendChild(el("p", "facts", facts.join(" · ")));
    var findings = (fx.findings[String(i)] || []).map(function (k) { return fx.findingTable[k]; });
    if (findings.length) {
      var ul = el("ul", "finding-links");
      findings.forEach(function (f) {
        var li = el("li");
        li.appendChild(el("span", "badge sev-" + f[0], f[0]));
        li.appendChild(document.createTextNode(" "));
        var link = el(f[4] ? "a" : "span", null, f[2]);
        if (f[4]) { link.href = "#" + f[4]; }
        li.appendChild(link);
        li.appendChild(el("span", "dim", " " + f[1] + (f[3] !== "open" ? " · " + f[3] : "")));
        ul.appendChild(li);
      });
      frag.appendChild(ul);
    }
    var links = fx.impact[String(i)];
    if (links) {
      var grid = el("div", "impact-grid");
      grid.appendChild(column("Written by", links[0], true));
      grid.appendChild(column("Read by", links[1], true));
      grid.appendChild(column("Feeds downstream", links[2], false, links[3]));
      frag.appendChild(grid);
    } else {
      frag.appendChild(el("p", "note", "Nothing writes, reads or maps this field, as far as the sources saw."));
    }
    if (!READ[fx.tools[r[C.tool]][3]]) {
      frag.appendChild(el("p", "note warn-text", "No source read " + toolName(r[C.tool]) +
        "'s references (workflows, forms, reports): readers and writers inside it may be missing."));
    }
    panel.replaceChildren(frag);
    if (scroll) { panel.scrollIntoView({ block: "nearest" }); }
  };
  if (panel) {
    panel.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-row]");
      if (b) { showImpact(Number(b.getAttribute("data-row")), false); }
    });
    var impactForm = document.getElementById("impact-form");
    if (impactForm) {
      impactForm.addEventListener("submit", function (e) {
        e.preventDefault();
        showImpact(rowOf(impactForm.elements.field.value.trim()), false);
      });
    }
    document.addEventListener("click", function (e) {
      var a = e.target.closest("a[data-field]");
      if (a) { showImpact(rowOf(a.getAttribute("data-field")), false); }
    });
  }
  markReady();
})();
