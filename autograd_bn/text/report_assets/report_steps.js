/* autograd-bn report: step through the backward pass, one node of the engine's order at a
   time, with the chain rule for that node and its numbers; deep links (#step=K, #node=ID);
   red edges and node fills by the size of the gradient; every path from the output to an
   input. Reads the inline JSON blob #node-data; plain DOM APIs only, nothing is loaded. */
(function () {
  "use strict";
  var root = document.documentElement;
  var data = JSON.parse(document.getElementById("node-data").textContent);
  var svg = document.querySelector("#graph .graph-box svg");
  var steps = data.steps || [];
  if (!svg || !steps.length) return;
  var panel = document.getElementById("step-panel");
  var status = document.getElementById("step-status");
  var playButton = document.getElementById("step-play");
  var speed = document.getElementById("step-speed");
  var current = 0;  // 0: not stepping; else the 1-based step shown
  var timer = null;

  function byId(id) { return id ? document.getElementById(id) : null; }
  function drawnNode(nodeId) { return byId(data.drawn[nodeId]); }
  function drawnEdge(key) { var e = data.edges[key]; return e ? byId(e.drawn) : null; }
  function all(selector) { return Array.prototype.slice.call(svg.querySelectorAll(selector)); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function fmt(v) {
    if (v === null || v === undefined) return "–";
    if (v === 0) return "0";
    var a = Math.abs(v);
    return a >= 1e-3 && a < 1e4 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
  }
  function values(array, cls) {
    var span = el("span", "values " + (cls || ""));
    if (!array) { span.textContent = "–"; return span; }
    var text = array.values.map(fmt).join("  ");
    span.textContent = "[" + text + (array.size > array.values.length ? "  …]" : "]");
    span.title = "shape (" + array.shape.join(", ") + "), RMS " + fmt(array.rms);
    span.setAttribute("data-values", JSON.stringify(array.values));
    return span;
  }

  // ---- step-through ----------------------------------------------------------------------

  var stepOf = {};  // node id → its step (1-based)
  steps.forEach(function (s) { stepOf[s.node] = s.index; });

  function clearMarks() {
    all(".stepping, .current, .done, .pending, .lit, .sent").forEach(function (g) {
      g.classList.remove("stepping", "current", "done", "pending", "lit", "sent");
    });
    svg.classList.remove("stepping");
  }

  function mark() {
    clearMarks();
    if (!current) return;
    svg.classList.add("stepping");
    var drawnStep = {};  // drawn id → the latest step reached among the nodes it shows
    steps.forEach(function (s) {
      var seen = s.index <= current ? s.index : 0;
      drawnStep[s.drawn] = Math.max(drawnStep[s.drawn] || 0, seen);
    });
    all("g.node").forEach(function (g) {
      var reached = drawnStep[g.id];
      g.classList.add(reached ? "done" : "pending");
    });
    Object.keys(data.edges).forEach(function (key) {
      var edge = data.edges[key], g = byId(edge.drawn);
      if (!g) return;
      if (stepOf[edge.from] < current) g.classList.add("sent");
    });
    all("g.edge.backward").forEach(function (g) {
      if (!g.classList.contains("sent")) g.classList.add("pending");
    });
    var step = steps[current - 1];
    var node = drawnNode(step.node);
    if (node) { node.classList.remove("done"); node.classList.add("current"); }
    step.terms.forEach(function (t) {
      var g = drawnEdge(t.edge);
      if (g) { g.classList.remove("pending"); g.classList.add("lit"); }
    });
  }

  function showPanel() {
    panel.textContent = "";
    if (!current) { panel.hidden = true; panel.removeAttribute("data-step"); return; }
    var s = steps[current - 1];
    panel.hidden = false;
    panel.setAttribute("data-step", String(current));
    panel.setAttribute("data-node", s.node);
    panel.appendChild(el("h3", null, "Step " + current + " of " + steps.length + ": " +
      s.label));
    panel.appendChild(el("p", "hint", s.op + (s.seed ? " · the seed's " + s.seed : "")));
    var rule = el("p", "rule");
    if (!s.terms.length) {
      rule.textContent = s.grad_name + " = " + s.start;
    } else {
      rule.textContent = s.grad_name + " = " + s.terms.map(function (t) { return t.text; })
        .join(" + ");
    }
    panel.appendChild(rule);
    var named = s.terms.length > 1 && s.terms.every(function (t) { return t.seed; });
    if (s.seed && (named || (!s.terms.length && s.seed !== s.start))) {
      panel.appendChild(el("p", "rule seed", s.seed + " = " + (s.terms.length ?
        s.terms.map(function (t) { return t.seed; }).join(" + ") : s.start)));
    }
    var table = el("table", "chain");
    s.terms.forEach(function (t, k) {
      var row = el("tr", "term");
      row.setAttribute("data-edge", t.edge);
      row.appendChild(el("td", "op", k === 0 ? "=" : "+="));
      var cell = el("td");
      cell.appendChild(el("div", "what", t.text + (t.seed ? "   (" + t.seed + ")" : "")));
      var from = el("div", "from");
      from.appendChild(document.createTextNode(
        "d" + (t.from_name.charAt(0) === "(" ? "" : "[") + t.from_name +
        (t.from_name.charAt(0) === "(" ? "" : "]") + " = "));
      from.appendChild(values(t.user_grad, "user"));
      cell.appendChild(from);
      var sent = el("div", "sent");
      sent.appendChild(document.createTextNode("→ "));
      sent.appendChild(values(t.contribution, "contribution"));
      cell.appendChild(sent);
      if (k > 0) {
        var sum = el("div", "partial");
        sum.appendChild(document.createTextNode("sum so far "));
        sum.appendChild(values(t.partial, "partial"));
        cell.appendChild(sum);
      }
      row.appendChild(cell);
      table.appendChild(row);
    });
    if (s.terms.length) panel.appendChild(table);
    var result = el("p", "result");
    result.appendChild(document.createTextNode(s.grad_name + " = "));
    result.appendChild(values(s.grad, "grad"));
    panel.appendChild(result);
    if (s.terms.some(function (t) { return t.axes.length; })) {
      panel.appendChild(el("p", "hint", ".sum(axis=…): the forward pass broadcast this " +
        "node, so its gradient is summed back over the axes it was copied along."));
    }
    if (s.terms.length > 1) {
      panel.appendChild(el("p", "hint", "Used by " + s.terms.length + " nodes: the engine " +
        "adds each one's part (+=) as it arrives; only then is the gradient complete."));
    }
  }

  function setFragment() {
    var want = current ? "#step=" + current : "";
    if (location.hash === want || (!want && !/^#(step|node)=/.test(location.hash))) return;
    history.replaceState(null, "", want || location.pathname + location.search);
  }

  function go(k, keepHash) {
    current = Math.max(0, Math.min(steps.length, k));
    mark();
    showPanel();
    status.textContent = current ? "step " + current + " of " + steps.length + ": " +
      steps[current - 1].grad_name : steps.length + " steps: press Step or →";
    root.setAttribute("data-step", String(current));
    if (!keepHash) setFragment();
    if (current && steps[current - 1] && window.reportShowNode) {
      window.reportShowNode(steps[current - 1].node);
    }
  }

  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
    playButton.textContent = "▶ Play";
    root.removeAttribute("data-playing");
  }
  function play() {
    if (timer) { stop(); return; }
    if (current >= steps.length) go(0);
    playButton.textContent = "⏸ Pause";
    root.setAttribute("data-playing", "true");
    go(current + 1);
    timer = setInterval(function () {
      if (current >= steps.length) { stop(); return; }
      go(current + 1);
    }, Number(speed.value) || 1000);
  }

  byId("step-next").addEventListener("click", function () { stop(); go(current + 1); });
  byId("step-back").addEventListener("click", function () { stop(); go(current - 1); });
  byId("step-reset").addEventListener("click", function () { stop(); go(0); });
  playButton.addEventListener("click", play);
  speed.addEventListener("change", function () { if (timer) { stop(); play(); } });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var t = event.target;
    if (t && (t.isContentEditable || /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(t.tagName))) {
      if (!(t.tagName === "BUTTON" && /^Arrow/.test(event.key))) return;
    }
    if (event.key === "ArrowRight") { stop(); go(current + 1); }
    else if (event.key === "ArrowLeft") { stop(); go(current - 1); }
    else if (event.key === "Home") { stop(); go(0); }
    else if (event.key === "End") { stop(); go(steps.length); }
    else return;
    event.preventDefault();
  });

  Array.prototype.forEach.call(document.querySelectorAll("tr[data-step]"), function (tr) {
    tr.addEventListener("dblclick", function () { stop(); go(Number(tr.getAttribute("data-step"))); });
  });

  // ---- deep links: #step=K, #node=ID ------------------------------------------------------

  function fromFragment() {
    var m = /^#step=(\d+)$/.exec(location.hash);
    if (m) { go(Number(m[1]), true); return; }
    m = /^#node=(.+)$/.exec(location.hash);
    if (m) {
      var id = decodeURIComponent(m[1]);
      var byKey = Object.keys(data.nodes).filter(function (n) { return data.nodes[n].key === id; });
      if (!stepOf[id] && byKey.length) id = byKey[0];
      if (stepOf[id]) { go(stepOf[id], true); }
      else if (window.reportShowNode) { window.reportShowNode(id); }
      var g = drawnNode(id);
      if (g) g.scrollIntoView({ block: "center" });
    }
  }
  window.addEventListener("hashchange", fromFragment);

  // ---- gradient size: red edge width and node fill by RMS, log scale --------------------

  var sizeBox = byId("grad-size"), legend = byId("grad-legend");
  var logs = [];
  Object.keys(data.edges).forEach(function (k) {
    if (data.edges[k].rms > 0) logs.push(Math.log10(data.edges[k].rms));
  });
  steps.forEach(function (s) { if (s.grad.rms > 0) logs.push(Math.log10(s.grad.rms)); });
  var lo = Math.min.apply(null, logs.length ? logs : [0]);
  var hi = Math.max.apply(null, logs.length ? logs : [1]);
  if (hi - lo < 1e-9) { hi = lo + 1; }
  function level(r) { return r > 0 ? (Math.log10(r) - lo) / (hi - lo) : 0; }
  function width(r) { return 0.6 + 7.4 * level(r); }
  function fill(r) {
    var t = level(r);  // white → deep red
    var g = Math.round(255 - 200 * t), b = Math.round(255 - 210 * t);
    return "rgb(255," + g + "," + b + ")";
  }

  function sizes(on) {
    root.setAttribute("data-grad-size", on ? "on" : "off");
    var edgeSize = {};  // drawn edge → the largest RMS it stands for
    Object.keys(data.edges).forEach(function (k) {
      var e = data.edges[k];
      if (e.drawn) edgeSize[e.drawn] = Math.max(edgeSize[e.drawn] || 0, e.rms || 0);
    });
    Object.keys(edgeSize).forEach(function (id) {
      var g = byId(id);
      if (!g) return;
      Array.prototype.forEach.call(g.querySelectorAll("path"), function (p) {
        p.style.strokeWidth = on ? width(edgeSize[id]).toFixed(2) + "px" : "";
      });
    });
    var nodeSize = {};
    steps.forEach(function (s) {
      nodeSize[s.drawn] = Math.max(nodeSize[s.drawn] || 0, s.grad.rms || 0);
    });
    Object.keys(nodeSize).forEach(function (id) {
      var g = byId(id);
      if (!g) return;
      var shape = g.querySelector("path, polygon, ellipse");
      if (shape) shape.style.fill = on ? fill(nodeSize[id]) : "";
    });
    legend.hidden = !on;
    if (on) {
      legend.textContent = "";
      legend.appendChild(el("span", null, "gradient RMS, log scale: "));
      [0, 0.5, 1].forEach(function (t) {
        var r = Math.pow(10, lo + t * (hi - lo));
        var item = el("span", "swatch");
        var line = el("span", "line");
        line.style.height = width(r).toFixed(1) + "px";
        var box = el("span", "box");
        box.style.background = fill(r);
        item.appendChild(line);
        item.appendChild(box);
        item.appendChild(document.createTextNode(" " + fmt(r)));
        legend.appendChild(item);
      });
      legend.appendChild(el("span", "hint", " (edges: what is sent; nodes: their gradient)"));
    }
  }
  sizeBox.addEventListener("change", function () { sizes(sizeBox.checked); });

  // ---- every path from the output to an input ------------------------------------------

  var pathTo = byId("path-to");
  (data.leaves || []).forEach(function (leaf) {
    var option = el("option", null, leaf.label);
    option.value = leaf.id;
    pathTo.appendChild(option);
  });
  function paths(leaf) {
    all(".on-path").forEach(function (g) { g.classList.remove("on-path"); });
    svg.classList.toggle("paths", !!leaf);
    root.setAttribute("data-path-to", leaf || "");
    if (!leaf) return;
    var reaches = {};  // node id → whether the input can be reached from it
    reaches[leaf] = true;
    var changed = true;
    while (changed) {  // (the graph is small; a fixed point is plenty)
      changed = false;
      Object.keys(data.edges).forEach(function (k) {
        var e = data.edges[k];
        if (reaches[e.to] && !reaches[e.from]) { reaches[e.from] = true; changed = true; }
      });
    }
    Object.keys(data.edges).forEach(function (k) {
      var e = data.edges[k];
      if (reaches[e.to] && reaches[e.from]) {
        var g = byId(e.drawn);
        if (g) g.classList.add("on-path");
      }
    });
    Object.keys(reaches).forEach(function (n) {
      var g = drawnNode(n);
      if (g) g.classList.add("on-path");
    });
  }
  pathTo.addEventListener("change", function () { paths(pathTo.value); });

  window.reportSteps = { go: go, sizes: sizes, paths: paths, count: steps.length };
  go(0, true);
  fromFragment();
  root.setAttribute("data-steps-wired", String(steps.length));
})();
