// bpfmatrix report: evidence panel, filters and keyboard navigation.
// Report text (evidence, verifier logs, kernel facts) only ever reaches the
// page through textContent, never innerHTML: it is attacker-shaped text.
// It runs once the parser is done, so that DOMContentLoaded is not held
// back by the layout of the grid it builds: the page's first paint waits
// for that layout either way.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var data = JSON.parse(document.getElementById("data").textContent);
  var grid = document.getElementById("grid");
  var objects = document.getElementById("objects-table");
  var panel = document.getElementById("panel");
  var panelTitle = document.getElementById("panel-title");
  var panelBody = document.getElementById("panel-body");
  // The cells come as arrays (see cellData in html.go): back to objects;
  // buildGrid gives a grid cell its row (r) and column (c).
  function cellObject(a) {
    var c = { s: str(a[0]), x: str(a[1]), u: a[2] === 1, n: str(a[3]), why: a[4], ev: a[5], vl: a[6], ms: a[8], since: str(a[9]) };
    if (a[7]) c.k = a[7];
    if (a.length > 10) { c.t = a[10]; c.of = a[11]; }
    return c;
  }
  data.cells = data.cells.map(cellObject);
  data.objs = data.objs.map(cellObject);

  // buildGrid writes the grid's rows from data.grid, once, before anything
  // reads them: one tbody per area, and per feature its name, upstream
  // version, works-from and one button per column.
  function buildGrid() {
    var g = data.grid, r = 0, next = 0, span = String(data.cols.length + 3);
    var frag = document.createDocumentFragment();
    // looks holds a cell of each view, which the grid's cells are copies of.
    // A view is [class, mark, title, unexpected, cause tag, note number].
    var looks = g.views.map(function (v) {
      var td = el("td", "c " + v[0]), btn = el("button", "", v[1]);
      btn.type = "button";
      btn.tabIndex = -1;
      btn.title = v[2];
      if (v[4]) btn.appendChild(el("span", "tg", v[4]));
      if (v[5]) btn.appendChild(el("sup", "fn", v[5]));
      if (v[3]) btn.appendChild(el("sup", "", "*"));
      td.appendChild(btn);
      return td;
    });
    g.areas.forEach(function (area) {
      var tb = el("tbody");
      tb.setAttribute("data-area", area.a);
      var head = el("tr", "area"), th = el("th");
      th.scope = "rowgroup";
      th.setAttribute("colspan", span);
      th.appendChild(el("span", "", area.a));
      th.appendChild(document.createTextNode(" "));
      th.appendChild(el("small", "", area.n + " features"));
      head.appendChild(th);
      tb.appendChild(head);
      for (var end = r + area.n; r < end; r++) {
        var tr = el("tr");
        tr.setAttribute("data-r", r);
        tr.setAttribute("data-f", data.rows[r]);
        tr.setAttribute("data-flags", g.flags[r]);
        tr.setAttribute("data-s", g.st[r]);
        var name = el("th", "feat", data.rows[r]);
        name.scope = "row";
        tr.appendChild(name);
        tr.appendChild(el("td", "num", g.since[r] || "—"));
        if (data.mismatch[r]) {
          var mm = el("td", "num fs-mm"), b = el("button", "mmbtn", (g.first[r] || "none") + " ⚠");
          b.type = "button";
          b.setAttribute("data-m", r);
          b.tabIndex = -1;
          b.title = "differs from upstream: activate for why";
          mm.appendChild(b);
          tr.appendChild(mm);
        } else {
          tr.appendChild(el("td", "num", g.first[r] || "—"));
        }
        var cs = g.cells[r];
        for (var i = 0; i < cs.length; i += 2) {
          var n = cs[i + 1], ids = [];
          for (var j = 0; j < n; j++) {
            data.cells[next].r = r;
            data.cells[next].c = i / 2;
            ids.push(next++);
          }
          var td = looks[cs[i]].cloneNode(true);
          td.firstChild.setAttribute("data-i", ids.join(" "));
          tr.appendChild(td);
        }
        tb.appendChild(tr);
      }
      frag.appendChild(tb);
    });
    grid.appendChild(frag);
  }
  buildGrid();

  // The numbered notes under the grid, note n as item n.
  var notesList = document.getElementById("notes-list");
  if (notesList) {
    data.notes.forEach(function (text, i) {
      var li = el("li", "", text);
      li.id = "note-" + (i + 1);
      notesList.appendChild(li);
    });
  }
  // view is the look of a grid cell (see buildGrid), by its record.
  function view(c) { return data.grid.views[data.grid.cells[c.r][2 * c.c]]; }
  function noteLink(n) {
    var a = el("a", "note", "note " + n + ": " + data.notes[n - 1]);
    a.href = "#note-" + n;
    return a;
  }
  // links appends to parent the links of a feature's upstream page and
  // of a column's run files, where the page knows them.
  function docLink(parent, r) {
    var d = r >= 0 ? data.grid.doc[r] : -1;
    if (d < 0) return;
    var a = el("a", "doc", "Upstream documentation ↗");
    a.href = data.docs[d];
    a.rel = "noopener";
    parent.appendChild(a);
  }
  // logLinks links the first max (all when not given) of a column's run
  // files.
  function logLinks(parent, col, max) {
    (col.logs || []).slice(0, max).forEach(function (name, i) {
      if (i) parent.appendChild(document.createTextNode(" · "));
      var a = el("a", "log", name);
      a.href = col.dir + "/" + name;
      parent.appendChild(a);
    });
  }

  var rows = Array.prototype.slice.call(grid.querySelectorAll("tbody tr[data-r]"));
  var bodies = Array.prototype.slice.call(grid.tBodies);
  var marks = data.marks;
  var opener = null;
  // openFeature is the feature of the open one-feature view, which the
  // page's address names (#f=…) so the view can be linked to.
  var openFeature = null;

  function str(i) { return i >= 0 ? data.strs[i] : ""; }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function fact(dl, name, value) {
    if (value === undefined || value === null || value === "") return;
    dl.appendChild(el("dt", "", name));
    dl.appendChild(el("dd", "", value));
  }

  function block(parent, title, text) {
    if (!text) return;
    parent.appendChild(el("h3", "", title));
    parent.appendChild(el("pre", "", text));
  }

  function show(title, build, from) {
    opener = from || null;
    openFeature = null;
    panelTitle.textContent = title;
    panelBody.textContent = "";
    build(panelBody);
    panel.hidden = false;
    document.body.classList.add("panel-open");
    panel.scrollTop = 0;
    if (from) from.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  function hide() {
    panel.hidden = true;
    document.body.classList.remove("panel-open");
    var sel = document.querySelector("button.sel");
    if (sel) sel.classList.remove("sel");
    if (opener) opener.focus();
    if (openFeature !== null) { openFeature = null; writeHash(); }
  }

  function ms(v) {
    if (v === undefined) return "";
    return v < 1000 ? v.toFixed(v < 10 ? 2 : 1) + " ms" : (v / 1000).toFixed(2) + " s";
  }

  // showCell opens the evidence of a grid cell (data-i: indexes into
  // data.cells) or of an object cell (data-o: into data.objs). A cell
  // outside the grid (an object, an arch difference) names its column in
  // data-c.
  function showCell(btn) {
    var object = btn.hasAttribute("data-o");
    var ids = btn.getAttribute(object ? "data-o" : "data-i");
    var cells = object ? data.objs : data.cells;
    var prev = document.querySelector("button.sel");
    if (prev) prev.classList.remove("sel");
    btn.classList.add("sel");
    var td = btn.parentNode, tr = td.parentNode;
    var col = btn.hasAttribute("data-c") ? +btn.getAttribute("data-c") : td.cellIndex - 3;
    var feature = tr.getAttribute("data-f");
    var colData = data.cols[col];
    show(feature + " · " + colData.label, function (body) {
      if (!ids) {
        body.appendChild(el("p", "", "This column never ran the feature."));
        return;
      }
      var list = ids.split(" ");
      if (list.length > 1) {
        body.appendChild(el("p", "mm", "Conflict: " + list.length + " records of this cell (from different shards) disagree. All are shown."));
      }
      list.forEach(function (i) {
        var c = cells[+i];
        var box = el("div", "shard");
        var badge = el("span", "badge s-" + c.s + (c.u ? " unexpected" : ""), (marks[c.s] || "?") + " " + c.s + (c.u ? " (unexpected)" : ""));
        box.appendChild(badge);
        if (c.t) box.appendChild(el("span", "stage", c.t));
        var dl = el("dl");
        (c.of || []).forEach(function (f) { fact(dl, f[0], f[1]); });
        if (!object && c.r !== undefined) {
          var v = view(c);
          if (v[2].indexOf(": ") > 0) fact(dl, "Cause", v[2].slice(v[2].indexOf(": ") + 2));
        }
        fact(dl, "Expected", c.x);
        fact(dl, "Errno", c.n);
        fact(dl, "Why expected", str(c.why));
        fact(dl, "Events", c.k !== undefined ? c.k : (c.s === "supported" ? "" : undefined));
        fact(dl, "Duration", ms(c.ms));
        fact(dl, "Upstream since", c.since);
        fact(dl, "Kernel", colData.kernel.release || colData.kernel.name);
        box.appendChild(dl);
        block(box, "Evidence", str(c.ev));
        block(box, "Verifier log", str(c.vl));
        body.appendChild(box);
      });
      var first = cells[+list[0]];
      if (!object && first.r !== undefined && view(first)[5]) {
        var np = el("p", "notes-ref");
        np.appendChild(noteLink(view(first)[5]));
        body.appendChild(np);
      }
      var links = el("p", "links");
      if (!object) docLink(links, data.rows.indexOf(feature));
      if (colData.logs) {
        if (links.firstChild) links.appendChild(document.createTextNode(" · "));
        links.appendChild(document.createTextNode("Run files: "));
        logLinks(links, colData);
      }
      if (links.firstChild) body.appendChild(links);
      if (!object && data.rows.indexOf(feature) >= 0) {
        var all = el("a", "every", "This feature on every column →");
        all.href = "#f=" + hashValue(feature);
        all.addEventListener("click", function (e) {
          // Keep the filters: the view replaces the panel, not the page's state.
          e.preventDefault();
          showFeature(data.rows.indexOf(feature), btn);
        });
        body.appendChild(all);
      }
    }, btn);
  }

  function firstLine(s) { var i = s.indexOf("\n"); return i < 0 ? s : s.slice(0, i); }

  // rowCells lists, per feature, the indexes of its cells in data.cells.
  var rowCells = data.rows.map(function () { return []; });
  data.cells.forEach(function (c, i) { rowCells[c.r].push(i); });

  // showFeature opens the one-feature view: the feature on every column
  // with each cell's status, errno and the first line of its evidence, its
  // upstream version and where it works from.
  function showFeature(r, from) {
    var cells = rowCells[r].map(function (i) { return data.cells[i]; });
    show(data.rows[r], function (body) {
      var since = "";
      cells.forEach(function (c) { since = since || c.since || ""; });
      var dl = el("dl");
      fact(dl, "Upstream since", since || "—");
      fact(dl, "Works from", data.works[r]);
      body.appendChild(dl);
      var links = el("p", "links");
      docLink(links, r);
      if (links.firstChild) body.appendChild(links);
      if (data.mismatch[r]) body.appendChild(el("p", "mm", data.mismatch[r]));
      var table = el("table", "one");
      var head = table.createTHead().insertRow();
      ["Column", "Status", "Errno", "Evidence", "Logs"].forEach(function (h) {
        var th = el("th", "", h);
        th.scope = "col";
        head.appendChild(th);
      });
      var tb = table.createTBody();
      data.cols.forEach(function (col, ci) {
        var tr = tb.insertRow();
        var th = el("th", "", col.label);
        th.scope = "row";
        tr.appendChild(th);
        var mine = cells.filter(function (c) { return c.c === ci; });
        var logs = el("td", "logs");
        logLinks(logs, col, 1);
        if (!mine.length) {
          tr.appendChild(el("td", "none", "· not run"));
          tr.appendChild(el("td"));
          tr.appendChild(el("td"));
          tr.appendChild(logs);
          return;
        }
        var v = view(mine[0]);
        var st = el("td", "st s-" + mine[0].s, mine.map(function (c) {
          return (marks[c.s] || "?") + " " + c.s + (c.u ? "*" : "") + (c.k ? " (" + c.k + " events)" : "");
        }).join(" / "));
        if (v[4]) st.appendChild(el("span", "tg", " " + v[4]));
        if (v[5]) {
          var fn = el("a", "fn", String(v[5]));
          fn.href = "#note-" + v[5];
          fn.title = "note " + v[5] + ": " + data.notes[v[5] - 1];
          st.appendChild(el("sup")).appendChild(fn);
        }
        tr.appendChild(st);
        tr.appendChild(el("td", "", mine.map(function (c) { return c.n || ""; }).join(" ")));
        tr.appendChild(el("td", "ev", firstLine(str(mine[0].ev) || str(mine[0].why))));
        tr.appendChild(logs);
      });
      body.appendChild(table);
    }, from);
    openFeature = data.rows[r];
    writeHash();
  }

  function showColumn(btn) {
    var c = data.cols[+btn.getAttribute("data-col")];
    var k = c.kernel;
    show(c.label, function (body) {
      var dl = el("dl");
      fact(dl, "Target", c.target);
      fact(dl, "Arch", c.arch);
      fact(dl, "Release", k.release);
      fact(dl, "Version", k.version);
      fact(dl, "Package", k.package);
      fact(dl, "Config from", k.config_source);
      fact(dl, "BTF", k.btf ? "yes" : "no");
      fact(dl, "Function tracer", k.function_tracer);
      fact(dl, "LSMs", (k.lsms || []).join(", "));
      fact(dl, "Lockdown", k.lockdown);
      fact(dl, "unprivileged_bpf_disabled", k.unprivileged_bpf_disabled);
      fact(dl, "Seccomp", k.seccomp);
      fact(dl, "CapEff", k.cap_eff);
      fact(dl, "Run", c.status);
      fact(dl, "Run time", c.secs ? c.secs.toFixed(1) + " s" : "");
      fact(dl, "Cached", c.cached);
      var counts = Object.keys(c.counts).map(function (s) { return c.counts[s] + " " + s; }).join(", ");
      fact(dl, "Cells", counts);
      body.appendChild(dl);
      block(body, "Run detail", str(c.detail));
    }, btn);
  }

  function showMismatch(btn) {
    var r = +btn.getAttribute("data-m");
    show(data.rows[r], function (body) {
      body.appendChild(el("p", "", "The lowest kernel where this feature works is not what its upstream version predicts:"));
      body.appendChild(el("p", "mm", data.mismatch[r]));
    }, btn);
  }

  grid.addEventListener("click", function (e) {
    var btn = e.target.closest("button");
    if (!btn || !grid.contains(btn)) return;
    setCurrent(btn);
    if (btn.hasAttribute("data-i")) showCell(btn);
    else if (btn.hasAttribute("data-col")) showColumn(btn);
    else if (btn.hasAttribute("data-m")) showMismatch(btn);
  });
  if (objects) {
    objects.addEventListener("click", function (e) {
      var btn = e.target.closest("button[data-o]");
      if (btn) showCell(btn);
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.arch-table"), function (table) {
    table.addEventListener("click", function (e) {
      var btn = e.target.closest("button[data-i]");
      if (btn) showCell(btn);
    });
  });
  document.getElementById("panel-close").addEventListener("click", hide);

  // Search text per row: the feature ID and every string of its cells, so
  // "CONFIG_FPROBE" or "EPERM" finds the rows that mention it.
  var rowPos = {};
  rows.forEach(function (tr, i) { rowPos[+tr.getAttribute("data-r")] = i; });
  var search = rows.map(function (tr) { return [tr.getAttribute("data-f")]; });
  data.cells.forEach(function (c) {
    var s = search[rowPos[c.r]];
    if (s) s.push(c.s, c.n || "", str(c.why), str(c.ev));
  });
  search = search.map(function (parts) { return parts.join("\n").toLowerCase(); });

  var fArea = document.getElementById("f-area");
  var fShow = document.getElementById("f-show");
  var fStatus = document.getElementById("f-status");
  var fQ = document.getElementById("f-q");
  var count = document.getElementById("f-count");
  var empty = document.getElementById("empty");

  function apply() {
    var area = fArea.value, flag = fShow.value, status = fStatus.value;
    var q = fQ.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (tr, i) {
      var ok = (!area || tr.parentNode.getAttribute("data-area") === area) &&
        (!flag || (" " + tr.getAttribute("data-flags") + " ").indexOf(" " + flag + " ") >= 0) &&
        (!status || (" " + tr.getAttribute("data-s") + " ").indexOf(" " + status + " ") >= 0) &&
        (!q || search[i].indexOf(q) >= 0);
      tr.hidden = !ok;
      if (ok) shown++;
    });
    bodies.forEach(function (tb) { tb.hidden = !tb.querySelector("tr[data-r]:not([hidden])"); });
    count.textContent = shown + " of " + rows.length + " features";
    empty.hidden = shown > 0;
    var cur = grid.querySelector('button[tabindex="0"]');
    if (!cur || !visible(cur)) setCurrent(firstButton());
    writeHash();
  }
  [fArea, fShow, fStatus].forEach(function (s) { s.addEventListener("change", apply); });
  // The environment columns (container profiles, BPF token) fold away as
  // a group, leaving the kernels.
  var fEnv = document.getElementById("f-env");
  if (fEnv) fEnv.addEventListener("change", function () {
    grid.classList.toggle("no-env", !fEnv.checked);
    var cur = grid.querySelector('button[tabindex="0"]');
    if (!cur || !visible(cur)) setCurrent(firstButton());
    writeHash();
  });

  // The address keeps the view: #f=<feature> opens its one-feature view,
  // and area, show, s (status), q (search) and env=0 are the filters, so a
  // view can be bookmarked or sent.
  function hashValue(v) { return encodeURIComponent(v).replace(/%2F/g, "/"); }
  var reading = false;
  function writeHash() {
    if (reading) return;
    var parts = [];
    function add(k, v) { if (v) parts.push(k + "=" + hashValue(v)); }
    add("f", openFeature);
    add("area", fArea.value);
    add("show", fShow.value);
    add("s", fStatus.value);
    add("q", fQ.value.trim());
    if (fEnv && !fEnv.checked) parts.push("env=0");
    var h = parts.length ? "#" + parts.join("&") : "";
    if (h === location.hash) return;
    try { history.replaceState(null, "", h || location.pathname + location.search); } catch (err) { /* an opaque origin may refuse */ }
  }
  function readHash() {
    var p = new URLSearchParams(location.hash.slice(1));
    reading = true;
    fArea.value = p.get("area") || "";
    fShow.value = p.get("show") || "";
    fStatus.value = p.get("s") || "";
    fQ.value = p.get("q") || "";
    if (fEnv) {
      fEnv.checked = p.get("env") !== "0";
      grid.classList.toggle("no-env", !fEnv.checked);
    }
    apply();
    var r = data.rows.indexOf(p.get("f"));
    if (r >= 0) showFeature(r, null);
    else if (openFeature !== null) hide();
    reading = false;
  }
  window.addEventListener("hashchange", readHash);

  // Export: the rows and columns the filters show, as CSV or Markdown, a
  // download made in the page (a Blob URL), never a request. A cell says
  // what its button's title says: its status, "expected …" when it is
  // unexpected, "conflict" when shards disagree, "not run".
  function viewTable() {
    var heads = grid.tHead.rows[0].cells, cols = [];
    for (var i = 0; i < heads.length; i++) {
      if (i < 3 || shown(heads[i].querySelector("button"))) cols.push(i);
    }
    var out = [cols.map(function (i) {
      var b = heads[i].querySelector("button");
      return b ? data.cols[+b.getAttribute("data-col")].label : heads[i].textContent.trim();
    })];
    rows.forEach(function (tr) {
      if (tr.hidden) return;
      out.push(cols.map(function (i) {
        var cell = tr.cells[i], b = cell.querySelector("td.c button");
        return b ? b.title + (b.querySelector("sup") ? " *" : "") : cell.textContent.trim();
      }));
    });
    return out;
  }
  function csvField(v) {
    // A leading = + - @ makes a spreadsheet read a formula: quote it away.
    if (/^[=+\-@]/.test(v)) v = "'" + v;
    return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
  }
  function mdField(v) { return v.replace(/[\\|]/g, "\\$&").replace(/\s+/g, " ") || " "; }
  var exporters = {
    csv: function (t) { return t.map(function (r) { return r.map(csvField).join(","); }).join("\r\n") + "\r\n"; },
    md: function (t) {
      var lines = t.map(function (r) { return "| " + r.map(mdField).join(" | ") + " |"; });
      lines.splice(1, 0, "|" + t[0].map(function () { return " --- |"; }).join(""));
      return lines.join("\n") + "\n";
    }
  };
  function download(kind, type) {
    var blob = new Blob([exporters[kind](viewTable())], { type: type });
    var a = el("a");
    a.href = URL.createObjectURL(blob);
    a.download = "bpfmatrix." + kind;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 0);
  }
  document.getElementById("export-csv").addEventListener("click", function () { download("csv", "text/csv;charset=utf-8"); });
  document.getElementById("export-md").addEventListener("click", function () { download("md", "text/markdown;charset=utf-8"); });
  fQ.addEventListener("input", apply);

  // Keyboard: the grid is one tab stop (roving tabindex); arrows move
  // between cells of visible rows, Enter or Space opens the evidence.
  function visible(btn) { var tr = btn.closest("tr"); return !tr.hidden && !tr.parentNode.hidden && shown(btn); }
  // shown is false for a cell of a collapsed column group.
  // It reads the column's heading rather than the layout: a layout of the
  // whole grid while the page loads would hold DOMContentLoaded back.
  function shown(btn) {
    if (!grid.classList.contains("no-env")) return true;
    var head = grid.tHead.rows[0].cells[btn.closest("th, td").cellIndex];
    return !head || !head.classList.contains("kind-env");
  }
  function firstButton() {
    for (var i = 0; i < rows.length; i++) {
      if (!rows[i].hidden) return rows[i].querySelector("td.c button");
    }
    return grid.querySelector("thead button");
  }
  function setCurrent(btn) {
    if (!btn) return;
    var old = grid.querySelectorAll('button[tabindex="0"]');
    for (var i = 0; i < old.length; i++) old[i].tabIndex = -1;
    btn.tabIndex = 0;
  }
  function move(btn, dr, dc) {
    var cell = btn.closest("th, td"), tr = cell.parentNode;
    if (dc) {
      for (var ci = cell.cellIndex + dc; ci >= 0 && ci < tr.cells.length; ci += dc) {
        var b = tr.cells[ci].querySelector("button");
        if (b && shown(b)) return b;
      }
      return null;
    }
    var all = [grid.tHead.rows[0]].concat(rows.filter(function (r) { return !r.hidden; }));
    var at = all.indexOf(tr) + dr;
    if (at < 0 || at >= all.length) return null;
    var same = all[at].cells[cell.cellIndex];
    // A row without a button in this column (the "works from" cell) falls
    // back to the row's first status cell.
    return (same && same.querySelector("button")) || all[at].querySelector("td.c button");
  }
  grid.addEventListener("keydown", function (e) {
    var btn = e.target.closest("button");
    if (!btn) return;
    var next = null;
    switch (e.key) {
      case "ArrowRight": next = move(btn, 0, 1); break;
      case "ArrowLeft": next = move(btn, 0, -1); break;
      case "ArrowDown": next = move(btn, 1, 0); break;
      case "ArrowUp": next = move(btn, -1, 0); break;
      case "Home": next = btn.closest("tr").querySelector("button"); break;
      case "End": var bs = btn.closest("tr").querySelectorAll("button"); next = bs[bs.length - 1]; break;
      default: return;
    }
    e.preventDefault();
    if (!next) return;
    setCurrent(next);
    next.focus();
    // While the panel is open it follows the focus, so arrowing through a
    // row reads its evidence cell by cell.
    if (!panel.hidden && next.hasAttribute("data-i")) showCell(next);
  });
  // A cell's accessible name ("attach/kprobe on 6.1 vm: supported") is set
  // when it takes focus rather than written into every cell: the grid has
  // one Tab stop, and the page stays small as columns and features grow.
  grid.addEventListener("focusin", function (e) {
    var btn = e.target;
    if (!btn.hasAttribute || !btn.hasAttribute("data-i") || btn.hasAttribute("aria-label")) return;
    var td = btn.parentNode, tr = td.parentNode;
    var fn = btn.querySelector("sup.fn"), n = fn ? +fn.textContent : 0;
    btn.setAttribute("aria-label", tr.getAttribute("data-f") + " on " + data.cols[td.cellIndex - 3].label + ": " + btn.title +
      (n ? "; note " + n + ": " + data.notes[n - 1] : ""));
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !panel.hidden) { e.preventDefault(); hide(); }
    else if (e.key === "/" && document.activeElement !== fQ && !/^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName)) {
      e.preventDefault(); fQ.focus();
    }
  });

  setCurrent(firstButton());
  readHash();
});
