/* micrograd_it explorer: step through backward() on a Graphviz drawing of the graph.
 *
 * Plain JavaScript, no library. The page embeds its data as JSON in
 * <script id="micrograd-graph">: `nodes` ({id, label, data, grad, op}, grad being the engine's own result),
 * `order` (one entry per press of Step, in the engine's order: first the seed of the root, then one
 * chain-rule step per node, each listing its inputs as [child id, local derivative]), and `details`
 * (per node: display name, drawn unit, local-derivative texts, how many contributions it receives).
 *
 * The gradients are computed here, step by step, with the engine's own arithmetic
 * (child.grad = child.grad + local * out.grad, in IEEE doubles like Python's floats), so after the last
 * step every data-grad equals the engine's grad exactly.
 */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("micrograd-graph").textContent);
  var nodes = data.nodes, details = data.details, order = data.order;
  var graph = document.getElementById("graph");
  var controls = document.getElementById("controls");
  var svg = graph.querySelector("svg");
  var canvas = svg.querySelector("g.graph");
  var explain = document.getElementById("explain");
  var positionText = document.getElementById("position");
  var tooltip = document.getElementById("tooltip");

  // -- numbers as the Python side prints them ('%.4g') ------------------------------------------
  function fmt(x, digits) {
    digits = digits || 4;
    if (x === null || x === undefined) return "–";
    if (x === 0) return Object.is(x, -0) ? "-0" : "0";
    if (!isFinite(x)) return String(x);
    var exponent = parseInt(x.toExponential(digits - 1).split("e")[1], 10);
    if (exponent < -4 || exponent >= digits) {
      var parts = x.toExponential(digits - 1).split("e");
      var mantissa = parts[0].indexOf(".") >= 0 ? parts[0].replace(/0+$/, "").replace(/\.$/, "") : parts[0];
      var e = parseInt(parts[1], 10);
      return mantissa + "e" + (e < 0 ? "-" : "+") + (Math.abs(e) < 10 ? "0" : "") + Math.abs(e);
    }
    var fixed = x.toFixed(Math.max(digits - 1 - exponent, 0));
    return fixed.indexOf(".") >= 0 ? fixed.replace(/0+$/, "").replace(/\.$/, "") : fixed;
  }
  // a Value's name as it reads before ".grad": an expression name in parentheses
  function name(id) { var text = details[id].name; return text.indexOf(" ") >= 0 ? "(" + text + ")" : text; }

  // -- state: the gradients so far, and how to undo each step -----------------------------------
  var grads = nodes.map(function () { return null; });  // null: no gradient has arrived yet
  var received = nodes.map(function () { return 0; });
  var position = 0, history = [], litCount = {}, stepsDone = {};

  function complete(id) {
    var arrivals = details[id].arrivals;
    return arrivals === 0 ? grads[id] !== null : received[id] === arrivals;
  }

  // edges a step sends gradient along, by the DOT names of their two ends
  function edgeKeysOf(step) {
    if (step.inputs === undefined) return [];
    var target = details[step.node].unit, keys = ["n" + step.node + "op|n" + step.node];
    if (target) keys.push(target + "op|" + target);
    step.inputs.forEach(function (input) {
      var child = input[0], source = details[child].unit;
      keys.push("n" + child + "|n" + step.node + "op", "s" + child + "|n" + step.node + "op");
      if (source && target && source !== target) keys.push(source + "|" + target, source + "|" + target + "op");
    });
    return keys;
  }
  var stepEdges = order.map(edgeKeysOf);

  function apply(index) {
    var step = order[index], undo = [];
    if (step.inputs === undefined) {  // the seed: backward() sets the root's gradient first
      undo.push([step.node, grads[step.node], received[step.node]]);
      grads[step.node] = step.seed;
    } else {
      var gradOut = grads[step.node];
      step.inputs.forEach(function (input) {
        var child = input[0], local = input[1];
        undo.push([child, grads[child], received[child]]);
        grads[child] = (grads[child] === null ? 0 : grads[child]) + local * gradOut;  // the chain rule
        received[child] += 1;
      });
      stepsDone[step.node] = true;
    }
    stepEdges[index].forEach(function (key) { litCount[key] = (litCount[key] || 0) + 1; });
    history.push(undo);
    position += 1;
    return undo;
  }

  function unapply() {
    var index = position - 1, undo = history.pop();
    for (var i = undo.length - 1; i >= 0; i--) {
      grads[undo[i][0]] = undo[i][1];
      received[undo[i][0]] = undo[i][2];
    }
    if (order[index].inputs !== undefined) delete stepsDone[order[index].node];
    stepEdges[index].forEach(function (key) { litCount[key] -= 1; });
    position -= 1;
    return undo;
  }

  // -- what is drawn: elements by node id, groups by preact, edges by their ends ----------------
  var elementsOf = {}, groupsOf = {}, opsOf = {}, edgesOf = {};
  function register(scope, add) {
    function put(table, key, element) {
      if (add) (table[key] = table[key] || []).push(element);
      else if (table[key]) table[key] = table[key].filter(function (e) { return e !== element; });
    }
    scope.querySelectorAll("[data-node]").forEach(function (e) { put(elementsOf, e.getAttribute("data-node"), e); });
    scope.querySelectorAll("[data-group]").forEach(function (e) { put(groupsOf, e.getAttribute("data-preact"), e); });
    scope.querySelectorAll("[data-op-of]").forEach(function (e) { put(opsOf, e.getAttribute("data-op-of"), e); });
    scope.querySelectorAll("g.edge").forEach(function (e) {
      put(edgesOf, e.getAttribute("data-source") + "|" + e.getAttribute("data-target"), e);
    });
  }

  function gradText(element, id) {
    var text = element.querySelector(".grad-text");
    if (!text) return;
    if (complete(id)) text.textContent = text.getAttribute("data-final-text");
    else text.textContent = text.getAttribute("data-prefix") + (grads[id] === null ? "–" : fmt(grads[id]) + " …");
  }

  function showNode(id) {
    var state = grads[id] === null ? "pending" : complete(id) ? "complete" : "partial";
    (elementsOf[id] || []).forEach(function (element) {
      element.setAttribute("data-grad", grads[id] === null ? "" : String(grads[id]));
      element.classList.remove("pending", "partial", "complete");
      element.classList.add(state);
      gradText(element, id);
    });
    (groupsOf[id] || []).forEach(function (element) {
      element.classList.remove("pending", "partial", "complete");
      element.classList.add(state);
      gradText(element, id);
    });
    (opsOf[id] || []).forEach(function (element) { element.classList.toggle("complete", !!stepsDone[id]); });
  }

  function showEdges(keys) {
    keys.forEach(function (key) {
      (edgesOf[key] || []).forEach(function (edge) { edge.classList.toggle("lit", litCount[key] > 0); });
    });
  }

  function showAll() {
    for (var id = 0; id < nodes.length; id++) showNode(id);
    Object.keys(edgesOf).forEach(function (key) {
      edgesOf[key].forEach(function (edge) { edge.classList.toggle("lit", litCount[key] > 0); });
    });
  }

  // -- the text under the buttons -----------------------------------------------------------------
  function line(parent, text, cls) {
    var element = document.createElement("div");
    element.textContent = text;
    if (cls) element.className = cls;
    parent.appendChild(element);
    return element;
  }

  function describe() {
    explain.textContent = "";
    positionText.textContent = "step " + position + " of " + order.length;
    if (position === 0) {
      line(explain, "Press Step (or →) to run backward() one step at a time, in the engine's own order. " +
           "Hover any node to see its numbers.");
      return;
    }
    var step = order[position - 1], out = step.node, undo = history[history.length - 1];
    if (step.inputs === undefined) {
      line(explain, name(out) + ".grad = " + fmt(step.seed) + "   (the seed: d " + name(out) + " / d " + name(out) +
           " = 1; backward() starts here)", "equation");
    } else {
      line(explain, "Step " + position + ": " + name(out) + " (op " + details[out].op_text + ") passes its gradient " +
           fmt(grads[out]) + " to " + step.inputs.map(function (input) { return name(input[0]); }).join(" and ") +
           " by the chain rule, child.grad += local × " + name(out) + ".grad:");
      step.inputs.forEach(function (input, k) {
        var child = input[0], local = input[1], before = undo[k][1];
        var text = name(child) + ".grad += " + fmt(local) + " × " + fmt(grads[out]);
        text += before === null ? " = " + fmt(grads[child]) : "  →  " + fmt(before) + " + " + fmt(local * grads[out]) +
          " = " + fmt(grads[child]) + "  (it accumulates)";
        line(explain, text + "   (local " + details[out].locals[k] + ")", "equation");
      });
      if (details[out].flat) {
        var local0 = step.inputs[0][1];
        line(explain, "⚠ " + details[out].op_text + " is flat here: the gradient " + fmt(grads[out]) +
             " arriving at " + name(out) + " is multiplied by its local derivative " + fmt(local0) + ", so " +
             name(step.inputs[0][0]) + " gets only " + fmt(100 * Math.abs(local0), 2) + "% of it. " +
             "Everything below it learns (almost) nothing from this sample.", "flat-note");
      }
      var unit = details[out].unit;
      if (unit && data.units[unit] && data.units[unit].kind === "group" && !expanded[unit]) {
        line(explain, "(inside the collapsed neuron " + data.units[unit].title + ": click it to open it)", "note");
      }
    }
    if (position === order.length) {
      line(explain, "Done: every Value now holds exactly the gradient backward() gives.", "done");
    }
  }

  // -- highlighting the step's nodes --------------------------------------------------------------
  function unitElements(key) {
    return key ? canvas.querySelectorAll('[data-key="' + key + '"], [data-key="' + key + 'op"]') : [];
  }
  function highlight() {
    canvas.querySelectorAll(".current, .receiving, .flat-now").forEach(function (element) {
      element.classList.remove("current", "receiving", "flat-now");
    });
    if (position === 0) return;
    var step = order[position - 1], out = step.node;
    var mark = function (key, cls) { unitElements(key).forEach(function (element) { element.classList.add(cls); }); };
    (step.inputs || []).forEach(function (input) {
      mark(details[input[0]].unit, "receiving");
      mark("n" + input[0], "receiving");
    });
    mark(details[out].unit, "current");
    mark("n" + out, "current");
    if (details[out].flat) { mark(details[out].unit, "flat-now"); mark("n" + out, "flat-now"); }
    follow();
  }

  // Keep the step on screen: every node passing or receiving the gradient (a Value and its op together),
  // scrolled into the drawing's box and the window below the sticky controls; when they do not all fit,
  // the node passing its gradient comes first.
  function follow() {
    var boxes = [].map.call(canvas.querySelectorAll(".current, .receiving"), function (el) {
      return el.getBoundingClientRect();
    });
    var current = [].map.call(canvas.querySelectorAll(".current"), function (el) { return el.getBoundingClientRect(); });
    if (!current.length) return;
    var span = function (rects) {
      return {left: Math.min.apply(null, rects.map(function (r) { return r.left; })),
              right: Math.max.apply(null, rects.map(function (r) { return r.right; })),
              top: Math.min.apply(null, rects.map(function (r) { return r.top; })),
              bottom: Math.max.apply(null, rects.map(function (r) { return r.bottom; }))};
    };
    var all = span(boxes), mine = span(current), view = graph.getBoundingClientRect(), MARGIN = 12;
    var left = view.left + MARGIN, right = Math.min(view.right, window.innerWidth) - MARGIN;
    var wanted = all.right - all.left <= right - left ? all : mine;
    if (wanted.left < left) graph.scrollLeft -= left - wanted.left;
    else if (wanted.right > right) graph.scrollLeft += Math.min(wanted.right - right, wanted.left - left);
    var top = controls.getBoundingClientRect().bottom + MARGIN, bottom = window.innerHeight - MARGIN;
    wanted = all.bottom - all.top <= bottom - top ? all : mine;
    if (wanted.top < top) window.scrollBy(0, wanted.top - top);
    else if (wanted.bottom > bottom) window.scrollBy(0, Math.min(wanted.bottom - bottom, wanted.top - top));
  }

  function touched(undo) { return undo.map(function (entry) { return entry[0]; }); }
  function refresh(ids, index) {
    ids.forEach(showNode);
    if (index !== undefined) {
      showNode(order[index].node);
      showEdges(stepEdges[index]);
    }
    describe();
    highlight();
    ["back", "reset"].forEach(function (id) { document.getElementById(id).disabled = position === 0; });
    document.getElementById("step").disabled = position === order.length;
  }

  function stepForward() {
    if (position >= order.length) { pause(); return false; }
    var index = position;
    refresh(touched(apply(index)), index);
    return true;
  }
  function stepBack() {
    if (position === 0) return;
    var index = position - 1;
    refresh(touched(unapply()), index);
  }
  function reset() {
    pause();
    while (position > 0) unapply();
    showAll();
    refresh([]);
  }
  function toEnd() {
    pause();
    while (position < order.length) apply(position);
    showAll();
    refresh([]);
  }

  // -- Play / Pause --------------------------------------------------------------------------------
  var timer = null;
  var playButton = document.getElementById("play"), speed = document.getElementById("speed");
  function pause() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    playButton.textContent = "▶ Play";
    playButton.setAttribute("aria-pressed", "false");
  }
  function play() {
    if (position >= order.length) reset();
    pause();
    timer = setInterval(function () { if (!stepForward()) pause(); }, 1000 / Number(speed.value));
    playButton.textContent = "⏸ Pause";
    playButton.setAttribute("aria-pressed", "true");
  }
  playButton.addEventListener("click", function () { if (timer === null) play(); else pause(); });
  speed.addEventListener("change", function () { if (timer !== null) play(); });
  document.getElementById("step").addEventListener("click", function () { pause(); stepForward(); });
  document.getElementById("back").addEventListener("click", function () { pause(); stepBack(); });
  document.getElementById("reset").addEventListener("click", reset);
  document.addEventListener("keydown", function (event) {
    if (event.target.tagName === "SELECT" || event.target.tagName === "INPUT") return;
    var actions = {ArrowRight: function () { pause(); stepForward(); }, ArrowLeft: function () { pause(); stepBack(); },
                   " ": function () { if (timer === null) play(); else pause(); }, Home: reset, End: toEnd};
    if (actions[event.key]) { event.preventDefault(); actions[event.key](); }
  });

  // -- hover: a tooltip with the node's numbers ---------------------------------------------------
  function valueTooltip(id, heading) {
    var node = nodes[id], detail = details[id];
    line(tooltip, heading || detail.name + (node.label && node.label !== detail.name ? " (label " + node.label + ")" : ""),
         "tip-title");
    line(tooltip, "data " + node.data);
    line(tooltip, "grad " + (grads[id] === null ? "– (no gradient has arrived yet)" : String(grads[id])) +
         (complete(id) ? "" : "   (final: " + node.grad + ")"));
    if (!node.op) { line(tooltip, "op: none (a leaf: an input, a parameter or a constant)"); return; }
    line(tooltip, "op " + detail.op_text + " of " + detail.inputs.map(name).join(", "));
    detail.inputs.forEach(function (child, k) {
      line(tooltip, "∂" + detail.name + "/∂" + name(child) + " = " + detail.local_values[k] + "   (" + detail.locals[k] + ")",
           "tip-local");
    });
    if (detail.flat) line(tooltip, "flat: it lets through only " + fmt(100 * Math.abs(detail.local_values[0]), 2) +
                          "% of the gradient", "flat-note");
  }
  function showTooltip(target, event) {
    tooltip.textContent = "";
    if (target.hasAttribute("data-node")) valueTooltip(Number(target.getAttribute("data-node")));
    else if (target.hasAttribute("data-op-of")) {
      var id = Number(target.getAttribute("data-op-of"));
      valueTooltip(id, "op " + details[id].op_text + " → " + name(id));
    } else if (target.hasAttribute("data-group")) {
      var unit = data.units[target.getAttribute("data-group")];
      line(tooltip, unit.title, "tip-title");
      unit.lines.forEach(function (text) { line(tooltip, text); });
      line(tooltip, unit.expandable ? "click to open it: its products, sums, preact and act"
                                    : "collapsed over all samples: explore a smaller batch to open a neuron");
    } else return;
    tooltip.hidden = false;
    tooltip.style.left = Math.min(event.clientX + 14, window.innerWidth - tooltip.offsetWidth - 4) + "px";
    tooltip.style.top = Math.min(event.clientY + 14, window.innerHeight - tooltip.offsetHeight - 4) + "px";
  }
  graph.addEventListener("mouseover", function (event) {
    var target = event.target.closest("[data-node], [data-op-of], [data-group]");
    if (target) showTooltip(target, event);
  });
  graph.addEventListener("mouseout", function (event) {
    var target = event.target.closest("[data-node], [data-op-of], [data-group]");
    if (target && !target.contains(event.relatedTarget)) tooltip.hidden = true;
  });

  // -- collapse / expand: open a neuron in place, moving the rest of the drawing aside ------------
  var MIN_FIT = 0.6;  // the smallest scale a drawing is shrunk to, to fit the window's width
  var PAD = 8, HEADER = 18, SVGNS = "http://www.w3.org/2000/svg";
  var base = {w: svg.viewBox.baseVal.width, h: svg.viewBox.baseVal.height};
  var background = canvas.querySelector(":scope > polygon");
  var units = {}, edges = [], loose = [], expanded = {};
  function center(box) { return [box.x + box.width / 2, box.y + box.height / 2]; }
  canvas.querySelectorAll(":scope > g.node").forEach(function (element) {
    units[element.getAttribute("data-key")] = {element: element, box: element.getBBox()};
  });
  canvas.querySelectorAll(":scope > g.edge").forEach(function (element) {
    edges.push({element: element, source: element.getAttribute("data-source"), target: element.getAttribute("data-target"),
                paths: Array.prototype.map.call(element.querySelectorAll("path"), function (path) {
                  return {element: path, d: path.getAttribute("d")};
                }),
                rest: element.querySelectorAll("polygon, text, ellipse, polyline")});
  });
  canvas.querySelectorAll(":scope > g.cluster").forEach(function (element) {
    loose.push({element: element, box: element.getBBox()});
  });

  // How far the opened neurons push a point: right of an opened neuron's column by its extra width,
  // below it in its column by its extra height. An opened neuron's own edges leave from its frame's sides.
  function shiftAt(point, selfKey, side) {
    var dx = 0, dy = 0;
    Object.keys(expanded).forEach(function (key) {
      var open = expanded[key], c = center(units[key].box), half = units[key].box.width / 2;
      if (key === selfKey) { dx += side === "out" ? open.bx : 0; dy += open.by / 2; return; }
      if (point[0] > c[0] + half) dx += open.bx;
      else if (Math.abs(point[0] - c[0]) <= half && point[1] > c[1]) dy += open.by;
    });
    return [dx, dy];
  }
  function unitShift(key, side) { return units[key] ? shiftAt(center(units[key].box), key, side) : [0, 0]; }

  function movePath(d, from, to) {
    var numbers = d.match(/-?\d*\.?\d+(?:e[-+]?\d+)?/gi) || [], pairs = numbers.length / 2, k = 0;
    return d.replace(/-?\d*\.?\d+(?:e[-+]?\d+)?/gi, function (number) {
      var i = Math.floor(k / 2), t = pairs > 1 ? i / (pairs - 1) : 0, axis = k % 2;
      k += 1;
      return (Number(number) + from[axis] * (1 - t) + to[axis] * t).toFixed(2);
    });
  }

  function relayout() {
    Object.keys(units).forEach(function (key) {
      var shift = unitShift(key, "in");
      units[key].element.setAttribute("transform", "translate(" + shift[0] + " " + shift[1] + ")");
    });
    edges.forEach(function (edge) {
      var from = unitShift(edge.source, "out"), to = unitShift(edge.target, "in");
      edge.paths.forEach(function (path) { path.element.setAttribute("d", movePath(path.d, from, to)); });
      edge.rest.forEach(function (element) {
        var shift = element.tagName === "text" ? [(from[0] + to[0]) / 2, (from[1] + to[1]) / 2] : to;
        element.setAttribute("transform", "translate(" + shift[0] + " " + shift[1] + ")");
      });
    });
    loose.forEach(function (item) {
      var shift = shiftAt(center(item.box));
      item.element.setAttribute("transform", "translate(" + shift[0] + " " + shift[1] + ")");
    });
    var extra = [0, 0];
    Object.keys(expanded).forEach(function (key) {
      var open = expanded[key], box = units[key].box, shift = shiftAt(center(box), key, "in");
      var left = box.x + shift[0], top = box.y + shift[1] - open.by / 2;
      open.frame.setAttribute("transform", "translate(" + left + " " + top + ")");
      extra[0] += open.bx;
      extra[1] += open.by;
    });
    var width = base.w + extra[0], height = base.h + extra[1];
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    // One CSS pixel per point (the page's text at its usual size), shrunk to the window's width when that
    // costs at most MIN_FIT of the size: a small graph fits without scrolling, a big one scrolls and follows.
    var room = graph.clientWidth - 16, fit = width > room && room / width >= MIN_FIT ? room / width : 1;
    svg.setAttribute("width", width * fit + "px");
    svg.setAttribute("height", height * fit + "px");
    if (background) {
      background.setAttribute("points", [[-4, 4 + extra[1]], [-4, 4 - base.h], [width - 4, 4 - base.h],
                                         [width - 4, 4 + extra[1]]].map(function (p) { return p.join(","); }).join(" "));
    }
  }

  function expand(key) {
    var template = document.querySelector('#interiors template[data-interior="' + key + '"]');
    if (!template || expanded[key]) return;
    var source = template.content.querySelector("svg");
    var inner = document.importNode(source.querySelector("g.graph"), true), box = units[key].box;
    var size = source.getAttribute("viewBox").split(/[ ,]+/).map(Number);
    var bx = Math.max(size[2] + 2 * PAD - box.width, 0), by = Math.max(size[3] + 2 * PAD + HEADER - box.height, 0);
    var frame = document.createElementNS(SVGNS, "g");
    frame.setAttribute("class", "frame");
    frame.setAttribute("data-frame", key);
    var rect = document.createElementNS(SVGNS, "rect");
    rect.setAttribute("width", box.width + bx);
    rect.setAttribute("height", box.height + by);
    rect.setAttribute("rx", 6);
    var header = document.createElementNS(SVGNS, "text");
    header.setAttribute("x", PAD);
    header.setAttribute("y", HEADER - 4);
    header.setAttribute("class", "frame-header");
    header.textContent = "▾ " + data.units[key].title + "  (click here to collapse)";
    var place = document.createElementNS(SVGNS, "g");
    place.setAttribute("transform", "translate(" + PAD + " " + (HEADER + PAD) + ")");
    place.appendChild(inner);
    frame.appendChild(rect);
    frame.appendChild(header);
    frame.appendChild(place);
    canvas.appendChild(frame);
    header.addEventListener("click", function () { collapse(key); });
    units[key].element.style.display = "none";
    expanded[key] = {bx: bx, by: by, frame: frame};
    register(frame, true);
    relayout();
    showAll();
    highlight();
  }

  function collapse(key) {
    var open = expanded[key];
    if (!open) return;
    register(open.frame, false);
    open.frame.remove();
    delete expanded[key];
    units[key].element.style.display = "";
    relayout();
    highlight();
  }

  graph.addEventListener("click", function (event) {
    var group = event.target.closest("[data-group]");
    if (group) { tooltip.hidden = true; expand(group.getAttribute("data-group")); }
  });

  // a small public handle for tests and the curious: window.microgradExplorer
  window.microgradExplorer = {expand: expand, collapse: collapse, step: stepForward, back: stepBack, reset: reset,
                              toEnd: toEnd, position: function () { return position; }, steps: order.length};
  register(canvas, true);
  relayout();
  showAll();
  refresh([]);
})();
