// anju web platform: draws the charts of a page from its <script type="application/json"> data block.
// No inline scripts anywhere (the CSP forbids them); ECharts maps use our own community GeoJSON.
(function () {
  "use strict";

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }


  function drawMap(d) {
    var el = document.getElementById("map");
    if (!el || !window.echarts) { return; }
    fetch(el.dataset.geojson, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (geo) {
        echarts.registerMap("anju-communities", geo);
        var byId = {};
        geo.features.forEach(function (f) { byId[f.properties.id] = f.properties.name; });
        var values = d.index.filter(function (r) { return byId[r.area_id] !== undefined && r.index !== null; })
          .map(function (r) { return { name: byId[r.area_id], value: r.index, id: r.area_id }; });
        var chart = echarts.init(el);
        chart.setOption({
          tooltip: { trigger: "item", formatter: function (p) {
            return p.name + ": " + (p.value === undefined || isNaN(p.value) ? "—" : Number(p.value).toFixed(1));
          } },
          visualMap: { min: 0, max: 100, left: "left", bottom: 10, text: ["100", "0"], calculable: true,
                       inRange: { color: d.palette } },
          series: [{ type: "map", map: "anju-communities", roam: true, name: d.label, data: values,
                     emphasis: { label: { show: false } }, nameProperty: "name" }],
        });
        chart.on("click", function (p) {
          if (p.data && p.data.id) { window.location.href = "/communities/" + encodeURIComponent(p.data.id); }
        });
        window.addEventListener("resize", function () { chart.resize(); });
        el.dataset.ready = "true";
      });
  }

  function drawLine(elId, labels, series) {
    var el = document.getElementById(elId);
    if (!el || !window.echarts) { return; }
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 50, right: 20, top: 30, bottom: 30 },
      xAxis: { type: "category", data: labels },
      yAxis: { type: "value" },
      series: series.map(function (s) { return { type: "line", name: s.name, data: s.data, smooth: false }; }),
    });
    window.addEventListener("resize", function () { chart.resize(); });
    el.dataset.ready = "true";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var ov = data("overview-data");
    if (ov) {
      drawMap(ov);
      if (ov.trend && ov.trend.length) {
        var keys = Object.keys(ov.trend[0]).filter(function (k) { return k !== "month"; });
        drawLine("trend", ov.trend.map(function (r) { return r.month; }),
          keys.map(function (k) { return { name: k === "current" ? (ov.lang === "en" ? "This period" : "本期") :
            (ov.lang === "en" ? "Comparison" : "对比期"), data: ov.trend.map(function (r) { return r[k]; }) }; }));
      }
    }
    var cd = data("community-data");
    if (cd) {
      drawLine("monthly", cd.monthly.map(function (r) { return r.month; }),
        [{ name: cd.label, data: cd.monthly.map(function (r) { return r.count; }) }]);
    }
  });
})();
