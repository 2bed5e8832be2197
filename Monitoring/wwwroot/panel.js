// Control panel: reads /api/status, /api/history and /api/series and draws everything itself (no libraries).
// The API key typed by the operator stays in the input field; it is sent only with a confirmed action.
"use strict";

(() => {
  const params = new URLSearchParams(location.search);
  const range = /^[0-9]{1,6}[smhd]$/.test(params.get("range") || "") ? params.get("range") : "1h";
  const colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];
  const svgNs = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  const el = (tag, attrs = {}, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  };
  const svgEl = (tag, attrs = {}, text) => {
    const node = document.createElementNS(svgNs, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = String(text);
    return node;
  };
  const fmt = (v, digits = 2) => (v === null || v === undefined) ? "–" : Number(v).toFixed(digits);
  const time = (iso) => iso ? new Date(iso).toLocaleTimeString() : "–";

  function fillBody(table, rows) {
    const body = table.tBodies[0];
    body.replaceChildren(...rows);
  }

  // the phase the operator sees: a change asks the Api to leave exactly this one
  let shownPhase = null;

  function renderStatus(s) {
    shownPhase = s.phase ?? null;
    $("phase").textContent = s.phase ?? "?";
    $("plan").textContent = s.plan ? `(${s.plan})` : "";
    fillBody($("features"), Object.entries(s.features || {}).map(([name, pct]) => {
      const tr = el("tr");
      tr.append(el("td", {}, name), el("td", {}, `${pct}%`));
      return tr;
    }));
    const badge = $("guard-status");
    badge.dataset.status = s.guard.status;
    const firing = (s.triggers || []).filter((t) => t.state === "Firing").map((t) => t.name);
    badge.textContent = `guard: ${s.guard.status === "firing" ? `FIRING (${firing.join(", ")})` : s.guard.status}${s.guard.dryRun ? " (dry run)" : ""}`;
    $("evaluated").textContent = s.evaluatedAt
      ? `evaluated ${time(s.evaluatedAt)} over ${s.guard.windowSeconds} s; Prometheus ${s.prometheus.reachable ? "reachable" : "UNREACHABLE"}, Api ${s.api.reachable ? "reachable" : "UNREACHABLE"}`
      : "waiting for the first evaluation";
    const problems = $("problems");
    problems.hidden = s.guard.problems.length === 0;
    problems.textContent = s.guard.problems.join(" · ");

    fillBody($("targets"), s.targets.map((t) => {
      const tr = el("tr", { "data-target": t.name });
      tr.append(el("td", { title: t.detail }, t.title), el("td", {}, t.goal),
        el("td", { class: "value" }, t.value === null ? "–" : `${fmt(t.value)}%`),
        el("td", { class: `status status-${t.status}` }, t.status));
      return tr;
    }));

    const stateText = { Ok: "ok", Firing: "FIRING", InsufficientData: "insufficient data" };
    fillBody($("triggers"), s.triggers.map((t) => {
      const tr = el("tr", { "data-trigger": t.name });
      tr.append(el("td", {}, t.name), el("td", { class: `state state-${t.state}` }, stateText[t.state] || t.state),
        el("td", { class: "muted" }, t.summary));
      return tr;
    }));
    fillBody($("audit"), (s.rolloutChanges || []).map((c) => {
      const tr = el("tr", { class: `action-${c.action}` });
      tr.append(el("td", {}, time(c.at)), el("td", {}, c.actor), el("td", {}, `${c.action}: phase ${c.from} → ${c.to}`),
        el("td", { class: "muted" }, c.reason));
      return tr;
    }));
    $("guard-mode").textContent = `last decision: ${s.guard.lastDecision ?? "–"}; minimum ${s.guard.minimumRequests} requests; every ${s.guard.intervalSeconds} s`
      + (s.guard.cooldownUntil && new Date(s.guard.cooldownUntil) > new Date() ? `; cooling down until ${time(s.guard.cooldownUntil)}` : "");
  }

  function renderHistory(items) {
    fillBody($("history"), items.slice(0, 50).map((e) => {
      const tr = el("tr", { class: `decision-${e.decision}` });
      tr.append(el("td", {}, time(e.time)), el("td", {}, e.phase ?? "?"), el("td", {}, e.decision), el("td", { class: "muted" }, e.summary));
      return tr;
    }));
  }

  // a step of 1, 2 or 5 × 10^k that cuts the span into about `count` parts
  function niceStep(span, count) {
    const raw = span / count, power = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / power;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
  }

  // a tick's label: as many decimals as the step needs, and the chart's unit
  function tickLabel(value, step, unit) {
    const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step))));
    return `${value.toFixed(decimals)}${unit === "%" ? "%" : ""}`;
  }

  function drawChart(figure, data) {
    const w = 560, h = 220, left = 52, right = 10, top = 10, bottom = 28;
    const caption = el("figcaption", {}, `${data.title} (${data.unit})`);
    const svg = svgEl("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": data.title });
    const points = data.series.flatMap((s) => s.points);
    svg.append(svgEl("rect", { x: left, y: top, width: w - left - right, height: h - top - bottom, fill: "none", stroke: "#ccc" }));
    const legend = el("div", { class: "legend" });
    if (points.length === 0) {
      svg.append(svgEl("text", { x: w / 2, y: h / 2, "text-anchor": "middle", class: "axis" }, "no data"));
      figure.replaceChildren(caption, svg, legend);
      return;
    }
    const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
    const minX = Math.min(...xs), maxX = Math.max(Math.max(...xs), minX + 1);
    let minY = Math.min(0, ...ys);
    let maxY = Math.max(...ys);
    if (maxY <= minY) maxY = minY + (maxY > 0 ? maxY : 1);
    const step = niceStep(maxY - minY, 4);
    minY = Math.floor(minY / step) * step;
    maxY = Math.ceil(maxY / step) * step;
    const X = (x) => left + (x - minX) / (maxX - minX) * (w - left - right);
    const Y = (y) => top + (h - top - bottom) - (y - minY) / (maxY - minY) * (h - top - bottom);
    for (let v = minY; v <= maxY + step / 2; v += step) {
      svg.append(svgEl("line", { x1: left, x2: w - right, y1: Y(v), y2: Y(v), stroke: "#eee" }));
      svg.append(svgEl("text", { x: left - 4, y: Y(v) + 3, "text-anchor": "end", class: "axis y-tick" }, tickLabel(v, step, data.unit)));
    }
    for (let i = 0; i <= 3; i++) {
      const t = minX + (maxX - minX) * i / 3;
      // the first and last labels are anchored inside the plot, so neither is cut at the edge
      const anchor = i === 0 ? "start" : i === 3 ? "end" : "middle";
      svg.append(svgEl("text", { x: X(t), y: h - 8, "text-anchor": anchor, class: "axis x-tick" },
        new Date(t * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
    }
    data.series.forEach((s, i) => {
      const color = colors[i % colors.length];
      if (s.points.length === 1) {
        svg.append(svgEl("circle", { class: "series", cx: X(s.points[0][0]), cy: Y(s.points[0][1]), r: 3, fill: color }));
      } else if (s.points.length > 1) {
        svg.append(svgEl("polyline", {
          class: "series", fill: "none", stroke: color, "stroke-width": 2,
          points: s.points.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" "),
        }));
      }
      const item = el("span");
      const swatch = el("i");
      swatch.style.background = color;
      item.append(swatch, document.createTextNode(s.name));
      legend.append(item);
    });
    figure.replaceChildren(caption, svg, legend);
  }

  async function getJson(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      let detail = `${response.status}`;
      try { detail = (await response.json()).detail || detail; } catch { /* not JSON */ }
      throw new Error(detail);
    }
    return response.json();
  }

  async function refreshStatus() {
    try {
      renderStatus(await getJson("api/status"));
      renderHistory(await getJson("api/history?limit=50"));
    } catch (e) {
      const problems = $("problems");
      problems.hidden = false;
      problems.textContent = `status unavailable: ${e.message}`;
    }
  }

  async function refreshCharts() {
    await Promise.all([...document.querySelectorAll(".chart")].map(async (figure) => {
      try {
        drawChart(figure, await getJson(`api/series?metric=${encodeURIComponent(figure.dataset.metric)}&range=${range}`));
      } catch (e) {
        figure.replaceChildren(el("figcaption", {}, figure.dataset.metric), el("p", { class: "problems" }, `chart unavailable: ${e.message}`));
      }
    }));
  }

  function confirmAction(text) {
    const dialog = $("confirm");
    $("confirm-text").textContent = text;
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  async function runAction(button) {
    const result = $("action-result");
    const key = $("api-key").value;
    const action = button.dataset.action, scope = button.dataset.scope;
    if (!key) {
      result.className = "error";
      result.textContent = "Type the API key first.";
      $("api-key").focus();
      return;
    }
    const label = button.textContent;
    if (shownPhase === null) {
      result.className = "error";
      result.textContent = "The phase in force is not known yet; wait for the status to load.";
      return;
    }
    const from = shownPhase;
    const to = action === "advance" ? from + 1 : scope === "complete" ? 0 : from - 1;
    if (!(await confirmAction(`${label}: phase ${from} → phase ${to}? The Api applies it to every replica at once, and refuses it if the phase is no longer ${from}.`))) {
      result.className = "";
      result.textContent = `${label}: cancelled.`;
      return;
    }
    const reason = $("reason").value.trim();
    const url = `api/rollout/${action}` + (scope ? `?scope=${scope}` : "");
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Api-Key": key },
        body: JSON.stringify(reason ? { reason, from } : { from }),
      });
      let body = null;
      try { body = await response.json(); } catch { /* empty */ }
      if (response.ok) {
        result.className = "ok";
        result.textContent = `${label}: done${body && body.phase !== undefined ? `, now at phase ${body.phase}` : ""}.`;
        setTimeout(refreshStatus, 500);
      } else {
        result.className = "error";
        result.textContent = `${label}: failed (${response.status}) ${body && (body.detail || body.title) || ""}`;
      }
    } catch (e) {
      result.className = "error";
      result.textContent = `${label}: failed (${e.message})`;
    }
  }

  document.querySelectorAll("#actions button[data-action]").forEach((b) => b.addEventListener("click", () => runAction(b)));
  $("range").textContent = range === "1h" ? "hour" : range;
  refreshStatus();
  refreshCharts();
  setInterval(refreshStatus, 5000);
  setInterval(refreshCharts, 30000);
})();
