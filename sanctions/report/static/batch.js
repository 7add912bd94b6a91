(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("batch-data").textContent);
  var rows = data.rows, rules = data.rules, outcomes = data.outcomes, size = data.page_size;
  var WORDS = {prohibited: "Prohibited", authorisation_required: "Authorisation required", review: "Review",
               notification_required: "Notification required", clear: "Clear"};
  var ICONS = {prohibited: "\u2716", authorisation_required: "\u26a0", review: "?", notification_required: "\u2709",
               clear: "\u2714"};
  var ruleText = rows.map(function (r) { return r[5].map(function (i) { return rules[i]; }).join(" "); });
  var idLower = rows.map(function (r) { return r[1].toLowerCase(); });
  var view = [], page = 0, sortCol = 0, sortDir = 1;
  var q = document.getElementById("q"), verdict = document.getElementById("verdict"),
      rule = document.getElementById("rule"), tbody = document.getElementById("rows"),
      status = document.getElementById("status"), info = document.getElementById("pageinfo");

  function compute() {
    var text = q.value.trim().toLowerCase(), v = verdict.value, ru = rule.value, ri = rules.indexOf(ru);
    var vi = v === "" ? -1 : +v, out = [];
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      if (vi >= 0 && r[3] !== vi) continue;
      if (ri >= 0 && r[5].indexOf(ri) < 0) continue;
      if (text && idLower[i].indexOf(text) < 0 && ruleText[i].indexOf(text) < 0) continue;
      out.push(i);
    }
    var c = sortCol, d = sortDir;
    out.sort(function (a, b) {
      var x = rows[a][c], y = rows[b][c];
      return (x < y ? -d : x > y ? d : 0) || (rows[a][0] - rows[b][0]);
    });
    view = out; page = 0; draw();
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function draw() {
    var pages = Math.max(1, Math.ceil(view.length / size));
    page = Math.min(Math.max(page, 0), pages - 1);
    var frag = document.createDocumentFragment();
    for (var k = page * size; k < Math.min(view.length, (page + 1) * size); k++) {
      var r = rows[view[k]], tr = document.createElement("tr"), o = outcomes[r[3]];
      tr.setAttribute("data-line", r[0]);
      cell(tr, String(r[0]));
      cell(tr, r[1], "mono subject");
      cell(tr, r[2]);
      var td = cell(tr, ICONS[o] + " " + WORDS[o], "outcome-" + o + " verdict-cell");
      td.setAttribute("data-verdict", o);
      cell(tr, String(r[4]));
      cell(tr, ruleText[view[k]] || "\u2014", "mono");
      frag.appendChild(tr);
    }
    tbody.textContent = "";
    if (!view.length) {
      var tr0 = document.createElement("tr");
      cell(tr0, "No decision matches these filters.").colSpan = 6;
      frag.appendChild(tr0);
    }
    tbody.appendChild(frag);
    status.textContent = view.length + " of " + rows.length + " decisions match.";
    info.textContent = "Page " + (page + 1) + " of " + pages;
    document.getElementById("first").disabled = document.getElementById("prev").disabled = page === 0;
    document.getElementById("next").disabled = document.getElementById("last").disabled = page >= pages - 1;
  }

  var timer = null;
  q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(compute, 120); });
  verdict.addEventListener("change", compute);
  rule.addEventListener("change", compute);
  document.getElementById("first").addEventListener("click", function () { page = 0; draw(); });
  document.getElementById("prev").addEventListener("click", function () { page -= 1; draw(); });
  document.getElementById("next").addEventListener("click", function () { page += 1; draw(); });
  document.getElementById("last").addEventListener("click", function () { page = 1e9; draw(); });
  document.querySelectorAll("th[data-col]").forEach(function (th) {
    th.querySelector("button").addEventListener("click", function () {
      var c = +th.getAttribute("data-col");
      sortDir = c === sortCol ? -sortDir : 1; sortCol = c;
      document.querySelectorAll("th[data-col]").forEach(function (o) { o.setAttribute("aria-sort", "none"); });
      th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      compute();
    });
  });
  compute();
  document.documentElement.setAttribute("data-ready", "true");
})();
