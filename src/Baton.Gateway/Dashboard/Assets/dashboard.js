// Baton's dashboard: polls the gateway's admin API every two seconds and draws what it returns. No library, no
// network beyond this origin; every value from the API is written as text, never as HTML.
"use strict";

(() => {
  const REFRESH_MS = 2000;
  const KEY_STORAGE = "baton.masterKey";
  const COLORS = ["#2e86de", "#e67e22", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#d35400", "#2c3e50", "#7f8c8d", "#f1c40f"];
  const SVG = "http://www.w3.org/2000/svg";
  const api = (path) => new URL("../admin/" + path, location.href);
  const $ = (id) => document.getElementById(id);

  let key = sessionStorage.getItem(KEY_STORAGE);
  let timer = null;

  // ---- fetching -------------------------------------------------------------------------------------------

  class AuthError extends Error {}

  async function getJson(path) {
    const headers = { Accept: "application/json" };
    if (key) headers.Authorization = "Bearer " + key;
    const response = await fetch(api(path), { headers, cache: "no-store", credentials: "omit" });
    if (response.status === 401 || response.status === 403) {
      const body = await response.json().catch(() => null);
      throw new AuthError(body?.error?.message ?? "The gateway refused the key.");
    }
    if (!response.ok) throw new Error(path + ": HTTP " + response.status);
    return response.json();
  }

  async function refresh() {
    timer = null;
    const names = ["stats", "requests?limit=50", "deployments", "budgets", "cache", "batches?limit=20"];
    const results = await Promise.allSettled(names.map(getJson));
    const auth = results.find((r) => r.status === "rejected" && r.reason instanceof AuthError);
    if (auth) {
      askForKey(key ? auth.reason.message : "");
      return;
    }
    const [stats, requests, deployments, budgets, cache, batches] = results.map((r) => (r.status === "fulfilled" ? r.value : null));
    const failed = results.filter((r) => r.status === "rejected");
    setStatus(failed.length === 0 ? "live" : "partial: " + failed[0].reason.message, failed.length === 0);
    if (stats) renderStats(stats);
    if (requests) renderRequests(requests.data);
    if (deployments) renderDeployments(deployments);
    if (budgets) renderBudgets(budgets.data);
    if (cache) renderCache(cache);
    if (batches) renderBatches(batches);
    $("updated").textContent = "updated " + new Date().toLocaleTimeString();
    schedule();
  }

  function schedule() {
    if (timer === null) timer = setTimeout(() => refresh().catch(onError), REFRESH_MS);
  }

  function onError(error) {
    setStatus("offline: " + error.message, false);
    schedule();
  }

  function setStatus(text, ok) {
    const status = $("status");
    status.textContent = text;
    status.className = "status " + (ok ? "ok" : "bad");
  }

  // ---- the key ------------------------------------------------------------------------------------------

  function askForKey(message) {
    $("key-form").hidden = false;
    $("main").hidden = true;
    $("forget").hidden = true;
    $("key-error").textContent = message;
    setStatus("key needed", false);
    $("key").focus();
  }

  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const entered = $("key").value.trim();
    if (!entered) return;
    key = entered;
    sessionStorage.setItem(KEY_STORAGE, key);
    $("key").value = "";
    $("key-form").hidden = true;
    $("main").hidden = false;
    $("forget").hidden = false;
    refresh().catch(onError);
  });

  $("forget").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_STORAGE);
    key = null;
    if (timer !== null) clearTimeout(timer);
    timer = null;
    askForKey("");
  });

  // ---- formatting ---------------------------------------------------------------------------------------

  const integer = (n) => (n ?? 0).toLocaleString("en-US");
  const ms = (n) => (n === null || n === undefined ? "–" : n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString("en-US"));
  const percent = (n) => (n === null || n === undefined ? "–" : (n * 100).toFixed(n > 0 && n < 0.1 ? 2 : 1) + " %");
  const usd = (n) => (n === null || n === undefined ? "–" : Number(n) === 0 ? "0" : Number(n) < 0.01 ? Number(n).toPrecision(3) : Number(n).toFixed(4));
  const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "–");
  const dateTime = (iso) => (iso ? new Date(iso).toLocaleString() : "–");
  const unixTime = (seconds) => (seconds ? new Date(seconds * 1000).toLocaleString() : "–");
  const cssClass = (text) => String(text ?? "").replace(/[^A-Za-z0-9_-]/g, "");

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "–" : String(text);
    if (className) td.className = className;
    return td;
  }

  function fillTable(id, rows, emptyText, columns) {
    const body = $(id).tBodies[0];
    const fragment = document.createDocumentFragment();
    for (const row of rows) {
      const tr = document.createElement("tr");
      for (const [value, className] of columns(row, tr)) tr.append(cell(value, className));
      fragment.append(tr);
    }
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      tr.className = "empty";
      const td = cell(emptyText);
      td.colSpan = $(id).tHead.rows[0].cells.length;
      tr.append(td);
      fragment.append(tr);
    }
    body.replaceChildren(fragment);
  }

  // ---- rendering ----------------------------------------------------------------------------------------

  function renderStats(stats) {
    const live = stats.live, recent = stats.recent, hour = stats.window;
    $("live-rps").textContent = live.requests_per_second.toFixed(2);
    $("live-requests").textContent = integer(live.requests);
    $("live-error-rate").textContent = percent(live.error_rate);
    $("live-errors").textContent = integer(live.errors);
    $("latency").textContent = ms(recent.latency_p50_ms) + " / " + ms(recent.latency_p95_ms) + " ms";
    $("ttft").textContent = ms(recent.time_to_first_token_p50_ms) + " / " + ms(recent.time_to_first_token_p95_ms) + " ms";
    $("hour-requests").textContent = integer(hour.requests);
    $("hour-errors").textContent = integer(hour.errors);
    $("hour-tokens").textContent = integer(hour.input_tokens + hour.output_tokens);
    $("hour-tokens-detail").textContent = integer(hour.input_tokens) + " in, " + integer(hour.output_tokens) + " out";
    $("hour-cost").textContent = usd(hour.cost_usd);
    $("cache-ratio").textContent = percent(hour.cache_hit_ratio);
    $("cache-detail").textContent = integer(hour.cache_hits) + " hits, " + integer(hour.cache_misses) + " misses, last hour";

    const starts = stats.minutes.map((m) => new Date(m.start));
    lineChart($("chart-requests"), starts, [
      { name: "requests", values: stats.minutes.map((m) => m.figures.requests) },
      { name: "errors", values: stats.minutes.map((m) => m.figures.errors), color: "#c0392b" },
    ], integer);
    lineChart($("chart-latency"), starts, [
      { name: "p50", values: stats.minutes.map((m) => m.figures.latency_p50_ms) },
      { name: "p95", values: stats.minutes.map((m) => m.figures.latency_p95_ms) },
      { name: "TTFT p50", values: stats.minutes.map((m) => m.figures.time_to_first_token_p50_ms) },
    ], ms);
    const per = (series, pick) => series.slice(0, COLORS.length).map((s) => ({ name: s.label ? s.label + " (" + s.name + ")" : s.name, values: s.minutes.map(pick) }));
    lineChart($("chart-model-tokens"), starts, per(stats.models, (p) => p.tokens), integer);
    lineChart($("chart-model-cost"), starts, per(stats.models, (p) => Number(p.cost_usd)), usd);
    lineChart($("chart-key-tokens"), starts, per(stats.keys, (p) => p.tokens), integer);
    lineChart($("chart-key-cost"), starts, per(stats.keys, (p) => Number(p.cost_usd)), usd);

    fillTable("models-table", stats.models, "No requests in the last hour.", (m) => [
      [m.name], [integer(m.totals.requests), "num"], [percent(m.totals.error_rate), "num"],
      [ms(m.totals.latency_p50_ms), "num"], [ms(m.totals.latency_p95_ms), "num"],
      [ms(m.totals.time_to_first_token_p50_ms), "num"], [ms(m.totals.time_to_first_token_p95_ms), "num"],
      [m.totals.tokens_per_second === null ? "–" : m.totals.tokens_per_second.toFixed(1), "num"],
      [integer(m.totals.input_tokens), "num"], [integer(m.totals.output_tokens), "num"], [usd(m.totals.cost_usd), "num"],
    ]);
    fillTable("keys-table", stats.keys, "No requests in the last hour.", (k) => [
      [k.name], [k.label], [integer(k.totals.requests), "num"], [integer(k.totals.errors), "num"],
      [integer(k.totals.input_tokens), "num"], [integer(k.totals.output_tokens), "num"], [usd(k.totals.cost_usd), "num"],
    ]);
  }

  function renderRequests(requests) {
    fillTable("requests-table", requests, "No requests yet.", (r, tr) => {
      if (r.status >= 400) tr.className = "failed";
      return [
        [time(r.time)], [r.key_name ? r.key_name + " (" + r.key_id + ")" : r.key_id],
        [r.model === r.requested_model ? r.model : r.requested_model + " → " + r.model], [r.deployment],
        [r.error_code ? r.status + " " + r.error_code : r.status], [ms(r.latency_ms), "num"], [ms(r.time_to_first_token_ms), "num"],
        [integer(r.input_tokens), "num"], [integer(r.output_tokens), "num"], [usd(r.cost_usd), "num"], [r.cache],
      ];
    });
  }

  function renderDeployments(view) {
    const badge = $("deployments-status");
    badge.textContent = view.status;
    badge.className = "badge " + cssClass(view.status);
    fillTable("deployments-table", view.deployments, "No deployments.", (d) => {
      const limit = d.rate_limit;
      const left = (remaining, max, share) => (max === null ? "no limit" : integer(remaining) + " / " + integer(max) + " (" + percent(share) + ")");
      return [
        [d.deployment], [d.models.join(", ")], [d.state, cssClass(d.state)], [d.breaker, cssClass(d.breaker)],
        [percent(d.error_rate), "num"], [ms(d.latency_p50_ms) + " / " + ms(d.latency_p95_ms), "num"],
        [left(limit.remaining_requests, limit.requests_per_minute, limit.requests_headroom), "num"],
        [left(limit.remaining_tokens, limit.tokens_per_minute, limit.tokens_headroom), "num"],
        [limit.max_concurrency === null ? integer(limit.in_flight) : integer(limit.in_flight) + " / " + integer(limit.max_concurrency), "num"],
        [d.last_error, "wrap"],
      ];
    });
  }

  function renderBudgets(budgets) {
    fillTable("budgets-table", budgets, "No budgets configured.", (b) => [
      [b.name], [b.scope], [b.subject_name ? b.subject_name + " (" + b.subject + ")" : b.subject ?? "all"], [b.period],
      [percent(b.used), "num"], [usd(b.spent_usd), "num"], [usd(b.reserved_usd), "num"],
      [b.hard_usd !== null ? usd(b.hard_usd) : "soft " + usd(b.soft_usd), "num"], [dateTime(b.resets_at)],
    ]);
  }

  function renderCache(cache) {
    $("cache-state").textContent = cache.mode === "off"
      ? "The response cache is off."
      : "Mode " + cache.mode + ": " + integer(cache.entries) + " entries, " + integer(cache.bytes) + " bytes; " +
        integer(cache.hits) + " hits and " + integer(cache.misses) + " misses since start (" + percent(cache.hit_rate) + ").";
  }

  function renderBatches(view) {
    $("batches-running").textContent = view.running + " running";
    fillTable("batches-table", view.data, "No batch jobs.", (b) => [
      [b.id], [b.status, cssClass(b.status)], [unixTime(b.created_at)], [integer(b.request_counts.total), "num"],
      [integer(b.request_counts.completed), "num"], [integer(b.request_counts.failed), "num"],
    ]);
  }

  // ---- charts ------------------------------------------------------------------------------------------

  function svg(tag, attributes, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** An axis label: short, so that small amounts (a fraction of a cent) fit in the margin. */
  function axis(value, format) {
    if (value === 0) return "0";
    if (Math.abs(value) < 0.01) return value.toExponential(1);
    return format(value);
  }

  /** Draws series of per-minute values (null is a gap) against the minutes' start times, with a legend. */
  function lineChart(target, times, series, format) {
    const width = target.clientWidth || 420, height = target.clientHeight || 180;
    const left = 58, right = 8, top = 8, bottom = 34;
    const plotWidth = width - left - right, plotHeight = height - top - bottom;
    target.setAttribute("viewBox", "0 0 " + width + " " + height);
    const nodes = [];
    const values = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined && !Number.isNaN(v));
    const max = Math.max(...values, 0) || 1;
    const x = (i) => left + (times.length <= 1 ? plotWidth : (i * plotWidth) / (times.length - 1));
    const y = (v) => top + plotHeight - (v / max) * plotHeight;
    for (let step = 0; step <= 4; step++) {
      const value = (max * step) / 4;
      nodes.push(svg("line", { class: "grid", x1: left, x2: width - right, y1: y(value), y2: y(value) }));
      nodes.push(svg("text", { x: left - 4, y: y(value) + 3, "text-anchor": "end" }, axis(value, format)));
    }
    for (let i = 0; i < times.length; i += Math.max(1, Math.ceil(times.length / 6))) {
      nodes.push(svg("text", { x: x(i), y: top + plotHeight + 12, "text-anchor": "middle" },
        times[i].toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
    }
    let legendX = left;
    series.forEach((s, index) => {
      const color = s.color ?? COLORS[index % COLORS.length];
      let path = "";
      s.values.forEach((v, i) => {
        if (v === null || v === undefined || Number.isNaN(v)) return;
        path += (path && s.values[i - 1] !== null && s.values[i - 1] !== undefined ? " L" : " M") + x(i).toFixed(1) + " " + y(v).toFixed(1);
      });
      if (path) nodes.push(svg("path", { class: "line", d: path.trim(), stroke: color }));
      s.values.forEach((v, i) => {
        if (v !== null && v !== undefined && v > 0) nodes.push(svg("circle", { cx: x(i), cy: y(v), r: 2, fill: color }));
      });
      nodes.push(svg("rect", { x: legendX, y: height - 12, width: 10, height: 4, fill: color }));
      const label = svg("text", { x: legendX + 14, y: height - 8 }, s.name);
      nodes.push(label);
      legendX += 24 + s.name.length * 6;
    });
    if (series.length === 0) {
      nodes.push(svg("text", { x: left + plotWidth / 2, y: top + plotHeight / 2, "text-anchor": "middle" }, "no data"));
    }
    target.replaceChildren(...nodes);
  }

  // ---- start ---------------------------------------------------------------------------------------------

  $("forget").hidden = !key;
  refresh().catch(onError);
})();
