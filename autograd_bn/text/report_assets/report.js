/* autograd-bn report: click or hover a node of the graph to see its value and gradient.
   Reads the inline JSON blob #node-data; needs no network. */
(function () {
  "use strict";
  var root = document.documentElement;
  var data = JSON.parse(document.getElementById("node-data").textContent);
  var panel = document.getElementById("inspector");
  var groups = {};
  var keyToId = {};
  var pinned = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function fmt(v) {
    if (v === null || v === undefined) return "–";
    if (typeof v === "string") return v;
    if (v === 0) return "0";
    var a = Math.abs(v);
    return a >= 1e-3 && a < 1e4 ? String(Number(v.toPrecision(4))) : v.toExponential(2);
  }

  function matrix(values) {
    var rows = Array.isArray(values) ? (Array.isArray(values[0]) ? values : [values]) : [[values]];
    var table = el("table", "matrix");
    rows.forEach(function (row) {
      var tr = el("tr");
      row.forEach(function (v) { tr.appendChild(el("td", null, fmt(v))); });
      table.appendChild(tr);
    });
    return table;
  }

  function arraySection(title, array, cls) {
    var box = el("div", cls);
    box.appendChild(el("h4", null, title));
    if (!array) {
      box.appendChild(el("p", "hint", "none: a constant, no gradient flows to it"));
      return box;
    }
    box.appendChild(matrix(array.values));
    if (array.truncated) {
      var s = array.stats;
      box.appendChild(el("p", "hint", "first " + array.shown.join(" × ") + " of " +
        array.shape.join(" × ") + "; min " + fmt(s.min) + ", mean " + fmt(s.mean) +
        ", max " + fmt(s.max)));
    }
    return box;
  }

  function mark(id) {
    Object.keys(groups).forEach(function (other) {
      groups[other].classList.toggle("picked", other === id);
    });
    var key = id && data.nodes[id] ? data.nodes[id].key : null;
    Array.prototype.forEach.call(document.querySelectorAll("tr[data-key]"), function (tr) {
      tr.classList.toggle("picked", tr.getAttribute("data-key") === key);
    });
  }

  function show(id) {
    var d = data.nodes[id];
    panel.textContent = "";
    panel.setAttribute("data-showing", id);
    panel.appendChild(el("h3", null, d.label));
    panel.appendChild(el("p", null, d.op + " · shape (" + d.shape.join(", ") + ")" +
      (d.step ? " · backward step " + d.step : "")));
    if (d.seed) {
      panel.appendChild(el("p", d.seed.matches ? "ok" : "bad", "seed's " + d.seed.name +
        ": max|engine − seed| = " + fmt(d.seed.max_abs_diff)));
    }
    panel.appendChild(arraySection("value (forward)", d.value, "value"));
    panel.appendChild(arraySection("gradient dL/d" + d.key + " (backward)", d.grad, "grad"));
    if (d.received_from && d.received_from.length > 1) {
      panel.appendChild(el("p", null, "Its gradient is the sum of what " +
        d.received_from.join(" and ") + " send to it."));
    }
    if (d.sends && d.sends.length) {
      panel.appendChild(el("h4", null, "sends back to its inputs"));
      var list = el("ul");
      d.sends.forEach(function (s) {
        list.appendChild(el("li", null, "→ " + s.to + ": gradient × " + s.derivative +
          (s.seed ? "  (seed's " + s.seed + ")" : "")));
      });
      panel.appendChild(list);
    }
    if (pinned !== id) panel.appendChild(el("p", "hint", "Click the node to keep this panel."));
    mark(id);
  }

  function pin(id) {
    pinned = pinned === id ? null : id;
    panel.setAttribute("data-pinned", pinned || "");
    show(id);
  }

  Array.prototype.forEach.call(document.querySelectorAll("#graph svg g.node"), function (g) {
    var title = g.querySelector("title");
    var id = title ? title.textContent.trim() : g.id;
    if (!data.nodes[id]) return;
    groups[id] = g;
    keyToId[data.nodes[id].key] = id;
    if (title) title.textContent = data.nodes[id].label;  // the browser's tooltip
    g.setAttribute("data-node", id);
    g.setAttribute("tabindex", "0");
    g.setAttribute("role", "button");
    g.setAttribute("aria-label", "show the value and gradient of " + data.nodes[id].label);
    g.addEventListener("mouseenter", function () { if (!pinned) show(id); });
    g.addEventListener("click", function () { pin(id); });
    g.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") { event.preventDefault(); pin(id); }
    });
  });

  Array.prototype.forEach.call(document.querySelectorAll("tr[data-key]"), function (tr) {
    tr.addEventListener("click", function () {
      var id = keyToId[tr.getAttribute("data-key")];
      if (!id) return;
      pinned = id;
      panel.setAttribute("data-pinned", id);
      show(id);
      groups[id].scrollIntoView({ block: "center" });
    });
  });

  // The step-through (report_steps.js) shows each step's node here, unpinned.
  window.reportShowNode = function (id) {
    if (!data.nodes[id]) return;
    pinned = null;
    panel.setAttribute("data-pinned", "");
    show(id);
  };

  root.setAttribute("data-nodes-wired", String(Object.keys(groups).length));
})();
