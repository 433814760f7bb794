/* micrograd_it training replay: a slider over recorded training steps; the loss curve, the saturation map and
 * the network map's colours follow it. Plain JavaScript, no library; the data is the JSON in
 * <script id="micrograd-replay"> (frames, and per frame the fill and text colour of each neuron, computed by
 * viz.graph.saturation_color so the page and the static figures share one colour scale). */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("micrograd-replay").textContent);
  var frames = data.frames, slider = document.getElementById("replay-step");
  var SVGNS = "http://www.w3.org/2000/svg";

  function fmt(x, digits) { return Number(x.toPrecision(digits || 4)).toString(); }

  // -- the loss curve ---------------------------------------------------------------------------------
  var curve = document.getElementById("loss-curve"), margin = {left: 46, right: 10, top: 10, bottom: 28};
  var width = Number(curve.getAttribute("width")), height = Number(curve.getAttribute("height"));
  var losses = frames.map(function (frame) { return Math.log10(Math.max(frame.loss, 1e-12)); });
  var low = Math.min.apply(null, losses), high = Math.max.apply(null, losses);
  if (high - low < 1e-9) { low -= 0.5; high += 0.5; }
  function x(step) { return margin.left + (frames.length > 1 ? step / (frames.length - 1) : 0.5) * (width - margin.left - margin.right); }
  function y(logLoss) { return margin.top + (high - logLoss) / (high - low) * (height - margin.top - margin.bottom); }
  function svgElement(tag, attributes, text) {
    var element = document.createElementNS(SVGNS, tag);
    Object.keys(attributes).forEach(function (key) { element.setAttribute(key, attributes[key]); });
    if (text !== undefined) element.textContent = text;
    curve.appendChild(element);
    return element;
  }
  svgElement("rect", {x: margin.left, y: margin.top, width: width - margin.left - margin.right,
                      height: height - margin.top - margin.bottom, fill: "#fff", stroke: "#999"});
  svgElement("polyline", {fill: "none", stroke: "#CC79A7", "stroke-width": 2,
                          points: losses.map(function (value, step) { return x(step) + "," + y(value); }).join(" ")});
  [low, high].forEach(function (value) {
    svgElement("text", {x: margin.left - 4, y: y(value) + 4, "text-anchor": "end", "font-size": 11}, fmt(Math.pow(10, value), 3));
  });
  svgElement("text", {x: (margin.left + width) / 2, y: height - 8, "text-anchor": "middle", "font-size": 11}, "step");
  var marker = svgElement("circle", {r: 5, fill: "#D55E00", stroke: "#000"});

  // -- the saturation map -------------------------------------------------------------------------------
  var canvas = document.getElementById("saturation-map"), context = canvas.getContext("2d");
  function drawMap(frame) {
    var rows = frame.saturated.length, columns = frame.saturation.length, top = 14;
    var cellWidth = canvas.width / columns, cellHeight = (canvas.height - top) / rows;
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    for (var row = 0; row < rows; row++) {
      for (var column = 0; column < columns; column++) {
        context.fillStyle = frame.saturated[row][column] === "1" ? "#fff" : "#000";
        context.fillRect(column * cellWidth, top + row * cellHeight, Math.ceil(cellWidth), Math.ceil(cellHeight));
      }
    }
    context.fillStyle = "#D55E00";
    frame.dead.forEach(function (column) {  // ▼ above each dead column
      var middle = (column + 0.5) * cellWidth;
      context.beginPath();
      context.moveTo(middle - 5, 1); context.lineTo(middle + 5, 1); context.lineTo(middle, top - 2);
      context.fill();
    });
    context.strokeStyle = "#999";
    context.strokeRect(0.5, top + 0.5, canvas.width - 1, canvas.height - top - 1);
  }

  // -- the network map ------------------------------------------------------------------------------------
  // the drawing's own title counts the dead of the last evaluation, not of the step shown: hide it
  document.querySelectorAll("#network svg > g.graph > text").forEach(function (text) { text.style.display = "none"; });
  function neuron(j) { return document.querySelector('#network [data-unit="' + data.layer_key + "_" + j + '"]'); }
  function paintNetwork(index) {
    var frame = frames[index], fills = data.fills[index], texts = data.text_colours[index], dead = {};
    frame.dead.forEach(function (j) { dead[j] = true; });
    frame.saturation.forEach(function (fraction, j) {
      var element = neuron(j);
      if (!element) return;
      var shape = element.querySelector("polygon, path, ellipse");
      if (shape) shape.setAttribute("fill", fills[j]);
      element.classList.toggle("dead", !!dead[j]);
      element.querySelectorAll("text").forEach(function (text) {
        var words = text.getAttribute("data-original") || text.textContent;
        text.setAttribute("data-original", words);
        text.setAttribute("fill", texts[j]);
        if (words === "DEAD") text.textContent = dead[j] ? "DEAD" : "";
        else if (words.indexOf("sat ") === 0) text.textContent = (dead[j] ? "DEAD " : "sat ") + Math.round(100 * fraction) + "%";
        else if (words.indexOf("|g| ") === 0) text.textContent = "|g| " + fmt(frame.grad_in[j], 2);
      });
    });
  }

  function show(index) {
    var frame = frames[index], entries = 0, saturated = 0;
    frame.saturated.forEach(function (row) {
      entries += row.length;
      for (var k = 0; k < row.length; k++) if (row[k] === "1") saturated += 1;
    });
    document.getElementById("replay-at").textContent = index;
    document.getElementById("replay-loss").textContent = fmt(frame.loss);
    document.getElementById("replay-dead").textContent = frame.dead.length;
    document.getElementById("replay-saturated").textContent = (100 * saturated / entries).toFixed(1);
    marker.setAttribute("cx", x(index));
    marker.setAttribute("cy", y(losses[index]));
    drawMap(frame);
    paintNetwork(index);
  }

  // -- slider and Play ---------------------------------------------------------------------------------------
  var timer = null, play = document.getElementById("replay-play");
  function pause() { if (timer !== null) clearInterval(timer); timer = null; play.textContent = "▶ Play"; play.setAttribute("aria-pressed", "false"); }
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  play.addEventListener("click", function () {
    if (timer !== null) { pause(); return; }
    if (Number(slider.value) >= frames.length - 1) slider.value = 0;
    play.textContent = "⏸ Pause";
    play.setAttribute("aria-pressed", "true");
    timer = setInterval(function () {
      if (Number(slider.value) >= frames.length - 1) { pause(); return; }
      slider.value = Number(slider.value) + 1;
      show(Number(slider.value));
    }, 400);
  });
  show(0);
})();
