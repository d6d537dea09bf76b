/* autograd-bn report: pan and zoom the graph by changing the inline SVG's viewBox.
   Wheel: zoom around the pointer. Drag: pan (a drag is not a click). Buttons + − and reset;
   keys + − 0. Plain DOM APIs only; nothing is loaded. */
(function () {
  "use strict";
  var svg = document.querySelector("#graph .graph-box svg");
  if (!svg) return;
  var box = svg.closest(".graph-box");
  var home = svg.getAttribute("viewBox").trim().split(/[\s,]+/).map(Number);
  var view = home.slice();
  var MIN = 0.05, MAX = 4;  // the view's width, as a fraction of the whole graph's
  var STEP = 1.25;

  function apply() {
    svg.setAttribute("viewBox", view.map(function (v) { return v.toFixed(2); }).join(" "));
    svg.setAttribute("data-zoom", (home[2] / view[2]).toFixed(3));
  }

  // A point of the viewport in the graph's coordinates (the SVG keeps its aspect ratio).
  function toGraph(clientX, clientY) {
    var r = svg.getBoundingClientRect();
    var scale = Math.max(view[2] / r.width, view[3] / r.height);
    var dx = (r.width * scale - view[2]) / 2, dy = (r.height * scale - view[3]) / 2;
    return [view[0] - dx + (clientX - r.left) * scale, view[1] - dy + (clientY - r.top) * scale];
  }

  function zoom(factor, clientX, clientY) {  // factor > 1 zooms in
    var width = Math.min(Math.max(view[2] / factor, home[2] * MIN), home[2] * MAX);
    factor = view[2] / width;
    if (clientX === undefined) {
      var r = svg.getBoundingClientRect();
      clientX = r.left + r.width / 2;
      clientY = r.top + r.height / 2;
    }
    var p = toGraph(clientX, clientY);
    view = [p[0] - (p[0] - view[0]) / factor, p[1] - (p[1] - view[1]) / factor,
            view[2] / factor, view[3] / factor];
    apply();
  }

  function reset() {
    view = home.slice();
    apply();
  }

  svg.addEventListener("wheel", function (event) {
    event.preventDefault();
    var lines = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1;
    zoom(Math.exp(-event.deltaY * lines * 0.002), event.clientX, event.clientY);
  }, { passive: false });

  var drag = null;     // where a press started, while the button is down
  var dragged = false; // the last press moved far enough to be a drag, not a click
  svg.addEventListener("pointerdown", function (event) {
    if (event.button !== 0) return;
    drag = { x: event.clientX, y: event.clientY, view: view.slice(), id: event.pointerId };
    dragged = false;
  });
  svg.addEventListener("pointermove", function (event) {
    if (!drag) return;
    var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
    if (!dragged && dx * dx + dy * dy < 16) return;  // under 4 px: still a click
    if (!dragged) {
      dragged = true;
      svg.classList.add("panning");
      if (svg.setPointerCapture) svg.setPointerCapture(drag.id);
    }
    var r = svg.getBoundingClientRect();
    var scale = Math.max(view[2] / r.width, view[3] / r.height);
    view = [drag.view[0] - dx * scale, drag.view[1] - dy * scale, view[2], view[3]];
    apply();
  });
  function release() {
    drag = null;
    svg.classList.remove("panning");
  }
  svg.addEventListener("pointerup", release);
  svg.addEventListener("pointercancel", release);
  // A drag ends with a click event: swallow it before it reaches a node.
  svg.addEventListener("click", function (event) {
    if (dragged) {
      event.stopPropagation();
      event.preventDefault();
      dragged = false;
    }
  }, true);

  var tools = document.createElement("div");
  tools.className = "zoom-tools";
  tools.setAttribute("role", "toolbar");
  tools.setAttribute("aria-label", "zoom the graph");
  [["+", "zoom in (key +)", "zoom-in", function () { zoom(STEP); }],
   ["−", "zoom out (key −)", "zoom-out", function () { zoom(1 / STEP); }],
   ["reset", "show the whole graph (key 0)", "zoom-reset", reset]].forEach(function (b) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = b[0];
    button.title = b[1];
    button.id = b[2];
    button.addEventListener("click", b[3]);
    tools.appendChild(button);
  });
  box.insertBefore(tools, box.firstChild);

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var t = event.target;
    if (t && (t.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName))) return;
    if (event.key === "+" || event.key === "=") zoom(STEP);
    else if (event.key === "-" || event.key === "_") zoom(1 / STEP);
    else if (event.key === "0") reset();
    else return;
    event.preventDefault();
  });

  window.reportZoom = { zoom: zoom, reset: reset, home: home.slice() };
  apply();
})();
