// The stage-lag dashboard: refreshes the figures and the charts from /dashboard/data.json
// every round of the lag monitor. No framework; uPlot (vendored) draws the charts.
"use strict";

(function () {
  const root = document.getElementById("dashboard");
  if (!root) return;
  const interval = Math.max(1, parseFloat(root.dataset.interval || "5")) * 1000;
  const charts = {};
  const colours = ["#1b6ac9", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#2c3e50"];

  function setText(scope, field, value) {
    const node = scope.querySelector('[data-field="' + field + '"]');
    if (node) node.textContent = value;
  }

  function updateGroup(group) {
    const box = document.querySelector('.stage[data-stage="' + group.stage + '"]');
    if (!box) return;
    box.dataset.status = group.status;
    box.className = "stage status-" + group.status.toLowerCase();
    setText(box, "status", group.status);
    setText(box, "lag", String(group.lag));
    setText(box, "max_lag_seconds", group.max_lag_seconds.toFixed(1));
    setText(box, "rate_per_s", group.rate_per_s.toFixed(1));
    setText(box, "members", String(group.members));
  }

  function drawChart(id, title, times, byStage) {
    const element = document.getElementById(id);
    if (!element || typeof uPlot === "undefined" || times.length === 0) return;
    const names = Object.keys(byStage);
    const data = [times].concat(names.map(function (name) { return byStage[name]; }));
    if (charts[id] && charts[id].names === names.join(",")) {
      charts[id].plot.setData(data);
      return;
    }
    if (charts[id]) charts[id].plot.destroy();
    const series = [{}].concat(names.map(function (name, i) {
      return { label: name, stroke: colours[i % colours.length], width: 2 };
    }));
    const width = Math.max(320, element.clientWidth || 800);
    const plot = new uPlot({ title: title, width: width, height: 240, series: series }, data, element);
    charts[id] = { plot: plot, names: names.join(",") };
  }

  function render(data) {
    const drawn = document.querySelectorAll(".stage[data-stage]").length;
    if (data.groups.length !== drawn) {
      // The groups changed (the first round of a monitor started after the page): draw anew.
      window.location.reload();
      return;
    }
    data.groups.forEach(updateGroup);
    const fresh = document.getElementById("freshness");
    if (fresh && data.at) {
      fresh.className = data.fresh ? "fresh" : "stale";
      setText(fresh, "at", data.at.replace("T", " ").slice(0, 19) + " UTC");
    }
    if (data.queues) {
      setText(document, "review_waiting", String(data.queues.review_waiting));
      setText(document, "notices_overdue", String(data.queues.notices_overdue));
    }
    data.stages.forEach(function (counts) {
      const row = document.querySelector('.dead-letters tr[data-stage="' + counts.stage + '"]');
      if (row) setText(row, "dead_lettered", String(counts.dead_lettered));
    });
    drawChart("chart-lag", root.dataset.labelLag, data.series.at, data.series.lag);
    drawChart("chart-lag-seconds", root.dataset.labelLagSeconds, data.series.at, data.series.lag_seconds);
  }

  function refresh() {
    fetch("/dashboard/data.json", { credentials: "same-origin", cache: "no-store" })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (data) { if (data) render(data); })
      .catch(function () { /* the next round tries again */ })
      .finally(function () { window.setTimeout(refresh, interval); });
  }

  refresh();
})();
