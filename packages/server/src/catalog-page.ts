// The catalog page: hand-written HTML, CSS and JavaScript, served by the server itself (no CDN,
// no build step), so it works with no network. The script avoids template literals: it lives in
// a TypeScript template string.

/** The page's HTML shell; the script fills it from the JSON routes. */
export const CATALOG_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mlforge feature catalog</title>
<link rel="stylesheet" href="/catalog.css">
</head>
<body>
<header class="top">
  <div class="brand"><span class="logo">mlforge</span> <span id="project" class="project"></span></div>
  <nav class="links"><a href="/docs">API</a><a href="/metrics" id="metrics-link">metrics</a></nav>
</header>
<div class="layout">
  <aside class="sidebar">
    <input id="search" type="search" placeholder="Search features, columns, tags" aria-label="Search features" autocomplete="off">
    <div id="tags" class="tags" aria-label="Filter by tag"></div>
    <p id="count" class="muted small"></p>
    <ul id="features" class="feature-list"></ul>
  </aside>
  <main id="detail" class="detail"><p class="muted">Loading features…</p></main>
</div>
<div id="token-dialog" class="overlay" hidden>
  <form id="token-form" class="dialog">
    <h2>This server needs a token</h2>
    <p class="muted">Enter the token given to <code>mlforge serve --token</code>. It is kept for this browser tab only.</p>
    <input id="token-input" type="password" autocomplete="off" aria-label="Token" required>
    <p id="token-error" class="error" hidden>That token was refused.</p>
    <button type="submit">Open the catalog</button>
  </form>
</div>
<script src="/catalog.js"></script>
</body>
</html>
`;

/** The page's style: system fonts, one accent colour, readable from phone to laptop width. */
export const CATALOG_STYLE = String.raw`:root {
  --ink: #1d2330; --muted: #5f6b7a; --line: #e3e7ee; --paper: #ffffff; --wash: #f6f8fb;
  --accent: #3358d4; --accent-soft: #e8eefc; --good: #1f7a4d; --warn: #a05a00; --bad: #b42318;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--ink); background: var(--wash); line-height: 1.45; font-size: 15px;
}
* { box-sizing: border-box; }
body { margin: 0; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.86em; }
a { color: var(--accent); }
.top { display: flex; align-items: center; justify-content: space-between; padding: 0.7rem 1.25rem; background: var(--paper); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
.logo { font-weight: 700; letter-spacing: -0.01em; }
.project { color: var(--muted); margin-left: 0.4rem; }
.links a { margin-left: 1rem; text-decoration: none; font-size: 0.9rem; }
.layout { display: grid; grid-template-columns: minmax(240px, 300px) minmax(0, 1fr); gap: 0; min-height: calc(100vh - 48px); }
.sidebar { border-right: 1px solid var(--line); background: var(--paper); padding: 1rem; }
#search { width: 100%; padding: 0.55rem 0.7rem; border: 1px solid var(--line); border-radius: 8px; font: inherit; background: var(--wash); }
#search:focus { outline: 2px solid var(--accent-soft); border-color: var(--accent); background: var(--paper); }
.tags { display: flex; flex-wrap: wrap; gap: 0.35rem; margin: 0.75rem 0 0.25rem; }
.tag { border: 1px solid var(--line); background: var(--paper); color: var(--muted); border-radius: 999px; padding: 0.1rem 0.6rem; font-size: 0.8rem; cursor: pointer; font: inherit; font-size: 0.8rem; }
.tag[aria-pressed="true"] { background: var(--accent); border-color: var(--accent); color: #fff; }
span.tag { cursor: default; }
.feature-list { list-style: none; margin: 0.5rem 0 0; padding: 0; }
.feature-list li a { display: block; padding: 0.6rem 0.65rem; border-radius: 8px; text-decoration: none; color: inherit; border: 1px solid transparent; }
.feature-list li a:hover { background: var(--wash); }
.feature-list li a[aria-current="true"] { background: var(--accent-soft); border-color: #c9d6fa; }
.feature-list .name { font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9rem; }
.feature-list .desc { color: var(--muted); font-size: 0.84rem; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; }
.feature-list .meta { font-size: 0.76rem; color: var(--muted); margin-top: 0.2rem; }
.dot { display: inline-block; width: 0.55rem; height: 0.55rem; border-radius: 50%; margin-right: 0.3rem; vertical-align: 0.05rem; background: #c5ccd6; }
.dot.synced { background: var(--good); } .dot.behind { background: var(--warn); } .dot.unavailable { background: var(--bad); }
.detail { padding: 1.5rem 2rem 3rem; max-width: 1100px; width: 100%; min-width: 0; }
.detail h1 { font-size: 1.55rem; margin: 0 0 0.25rem; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; letter-spacing: -0.02em; word-break: break-word; }
.detail h2 { font-size: 1.05rem; margin: 2rem 0 0.6rem; }
.lede { color: var(--muted); margin: 0 0 0.75rem; max-width: 70ch; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 0.75rem; margin: 1.25rem 0; }
.fact { background: var(--paper); border: 1px solid var(--line); border-radius: 10px; padding: 0.65rem 0.8rem; min-width: 0; }
.fact dt { font-size: 0.74rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
.fact dd { margin: 0.15rem 0 0; font-weight: 600; overflow-wrap: anywhere; }
.fact dd small { display: block; font-weight: 400; color: var(--muted); }
.state-synced { color: var(--good); } .state-behind { color: var(--warn); } .state-unavailable { color: var(--bad); }
pre.sql { background: #0f172a; color: #e2e8f0; padding: 1rem; border-radius: 10px; overflow-x: auto; line-height: 1.5; margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; background: var(--paper); border: 1px solid var(--line); border-radius: 10px; }
table { border-collapse: collapse; width: 100%; font-size: 0.88rem; }
th, td { text-align: left; padding: 0.55rem 0.75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 0.74rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); font-weight: 600; background: var(--wash); }
tr:last-child td { border-bottom: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
#schema td.mono { max-width: 14rem; overflow-wrap: anywhere; }
#schema td:last-child { width: 1%; }
svg.histogram rect { fill: var(--accent); }
svg.histogram rect:hover { fill: #1e3a9e; }
.top-values { list-style: none; margin: 0; padding: 0; min-width: 180px; }
.top-values li { display: grid; grid-template-columns: 1fr auto; gap: 0.5rem; font-size: 0.8rem; position: relative; padding: 0.05rem 0.3rem; }
.top-values .bar { position: absolute; inset: 0 auto 0 0; background: var(--accent-soft); border-radius: 3px; z-index: 0; }
.top-values span { position: relative; z-index: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.muted { color: var(--muted); } .small { font-size: 0.82rem; } .error { color: var(--bad); }
.notice { background: #fff7e6; border: 1px solid #f3d19c; border-radius: 10px; padding: 0.7rem 0.9rem; }
.overlay { position: fixed; inset: 0; background: rgba(15, 23, 42, 0.45); display: grid; place-items: center; z-index: 10; }
.overlay[hidden] { display: none; }
.dialog { background: var(--paper); padding: 1.5rem; border-radius: 12px; width: min(420px, 92vw); box-shadow: 0 20px 50px rgba(0,0,0,0.2); }
.dialog h2 { margin: 0 0 0.4rem; font-size: 1.15rem; }
.dialog input { width: 100%; padding: 0.55rem 0.7rem; border: 1px solid var(--line); border-radius: 8px; font: inherit; margin: 0.5rem 0; }
.dialog button { background: var(--accent); color: #fff; border: 0; border-radius: 8px; padding: 0.55rem 1rem; font: inherit; cursor: pointer; }
@media (max-width: 760px) {
  .layout { grid-template-columns: minmax(0, 1fr); }
  .sidebar { border-right: 0; border-bottom: 1px solid var(--line); }
  .feature-list { max-height: 40vh; overflow-y: auto; }
  .detail { padding: 1rem; }
  .facts { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
`;

/** The page's behaviour: fetches the JSON routes (with the token, when the server asks for one) and renders them. */
export const CATALOG_SCRIPT = String.raw`(function () {
  "use strict";
  var state = { features: [], tags: new Set(), query: "", selected: null, definitions: "" };
  var tokenKey = "mlforge-token";

  function h(tag, attributes, children) {
    var element = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value === undefined || value === null || value === false) return;
      if (name === "text") element.textContent = value;
      else if (name === "onclick") element.addEventListener("click", value);
      else element.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      element.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return element;
  }
  function svg(tag, attributes, children) {
    var element = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attributes || {}).forEach(function (name) { element.setAttribute(name, attributes[name]); });
    (children || []).forEach(function (child) { element.appendChild(child); });
    return element;
  }

  function askToken() {
    return new Promise(function (resolve) {
      var dialog = document.getElementById("token-dialog");
      var form = document.getElementById("token-form");
      var input = document.getElementById("token-input");
      document.getElementById("token-error").hidden = !sessionStorage.getItem(tokenKey);
      dialog.hidden = false;
      input.value = "";
      input.focus();
      form.onsubmit = function (event) {
        event.preventDefault();
        sessionStorage.setItem(tokenKey, input.value);
        dialog.hidden = true;
        resolve();
      };
    });
  }

  function api(path) {
    var headers = { accept: "application/json" };
    var token = sessionStorage.getItem(tokenKey);
    if (token) headers.authorization = "Bearer " + token;
    return fetch(path, { headers: headers }).then(function (response) {
      if (response.status === 401) return askToken().then(function () { return api(path); });
      return response.json().then(function (body) {
        if (!response.ok) {
          var error = new Error(body && body.message ? body.message : "HTTP " + response.status);
          error.status = response.status;
          throw error;
        }
        return body;
      });
    });
  }

  function ago(iso) {
    if (!iso) return "";
    var seconds = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (seconds < 60) return "just now";
    var minutes = seconds / 60;
    if (minutes < 60) return Math.floor(minutes) + " min ago";
    var hours = minutes / 60;
    if (hours < 48) return Math.floor(hours) + " h ago";
    return Math.floor(hours / 24) + " days ago";
  }
  function bytes(n) {
    if (n === null || n === undefined) return "";
    var units = ["B", "KB", "MB", "GB", "TB"];
    var index = 0;
    while (n >= 1024 && index < units.length - 1) { n /= 1024; index++; }
    return (index === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + " " + units[index];
  }
  function count(n) { return typeof n === "number" ? n.toLocaleString("en-US") : String(n); }
  function show(value) {
    if (value === null || value === undefined) return "–";
    if (typeof value === "number") return Number.isInteger(value) ? count(value) : String(Math.round(value * 1000) / 1000);
    if (typeof value === "object") return JSON.stringify(value);
    // An ISO time from JSON reads as the top values do: "2024-01-05 00:00:00", without a zero fraction.
    var time = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?Z$/.exec(String(value));
    if (time) return time[1] + " " + time[2] + (time[3] && Number(time[3]) !== 0 ? time[3] : "");
    return String(value);
  }

  function onlineText(online) {
    switch (online.state) {
      case "synced": return "synced " + ago(online.syncedAt);
      case "behind": return "behind: serving an older build, synced " + ago(online.syncedAt);
      case "not-synced": return "not synced";
      case "unavailable": return "online store unavailable";
      default: return "no online store";
    }
  }

  function matches(feature) {
    if (state.tags.size > 0 && !feature.tags.some(function (tag) { return state.tags.has(tag); })) return false;
    if (!state.query) return true;
    var haystack = [feature.name, feature.description || "", feature.source, feature.tags.join(" "), feature.keys.join(" ")]
      .concat(feature.columns.map(function (column) { return column.name; })).join(" ").toLowerCase();
    return state.query.split(/\s+/).every(function (word) { return haystack.indexOf(word) !== -1; });
  }

  function renderTags() {
    var all = [];
    state.features.forEach(function (feature) { feature.tags.forEach(function (tag) { if (all.indexOf(tag) === -1) all.push(tag); }); });
    all.sort();
    var container = document.getElementById("tags");
    container.textContent = "";
    all.forEach(function (tag) {
      container.appendChild(h("button", {
        type: "button", class: "tag", "data-tag": tag, "aria-pressed": state.tags.has(tag) ? "true" : "false", text: tag,
        onclick: function () { if (state.tags.has(tag)) state.tags.delete(tag); else state.tags.add(tag); renderTags(); renderList(); },
      }));
    });
  }

  function renderList() {
    var list = document.getElementById("features");
    list.textContent = "";
    var shown = state.features.filter(matches);
    document.getElementById("count").textContent = shown.length + " of " + state.features.length + " features";
    shown.forEach(function (feature) {
      var built = feature.offline ? "built " + ago(feature.offline.builtAt) + " · " + count(feature.offline.rows) + " rows" : "not built";
      list.appendChild(h("li", { "data-feature": feature.name }, [
        h("a", { href: "#/feature/" + encodeURIComponent(feature.name), "aria-current": state.selected === feature.name ? "true" : "false" }, [
          h("div", { class: "name", text: feature.name }),
          feature.description ? h("div", { class: "desc", text: feature.description }) : null,
          h("div", { class: "meta" }, [h("span", { class: "dot " + feature.online.state, title: onlineText(feature.online) }), built]),
        ]),
      ]));
    });
  }

  function fact(label, value, note) {
    return h("div", { class: "fact" }, [h("dt", { text: label }), h("dd", {}, [value, note ? h("small", { text: note }) : null])]);
  }

  function histogram(column) {
    var bins = column.histogram || [];
    var width = 150, height = 40;
    var max = bins.reduce(function (top, bin) { return Math.max(top, bin.count); }, 0) || 1;
    var barWidth = bins.length > 0 ? width / bins.length : width;
    var bars = bins.map(function (bin, index) {
      var barHeight = bin.count === 0 ? 0 : Math.max(1.5, (bin.count / max) * (height - 2));
      return svg("rect", { x: String(index * barWidth + 0.5), y: String(height - barHeight), width: String(Math.max(1, barWidth - 1)), height: String(barHeight), rx: "1" }, [
        svg("title", {}, [document.createTextNode(show(bin.lower) + " – " + show(bin.upper) + ": " + count(bin.count) + " rows")]),
      ]);
    });
    var chart = svg("svg", { class: "histogram", "data-column": column.name, width: String(width), height: String(height), viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": "Histogram of " + column.name }, bars);
    return chart;
  }

  function topValues(column) {
    var values = column.topValues || [];
    var max = values.reduce(function (top, item) { return Math.max(top, item.count); }, 0) || 1;
    return h("ul", { class: "top-values", "data-column": column.name }, values.slice(0, 5).map(function (item) {
      var bar = h("i", { class: "bar" });
      bar.style.width = Math.round((item.count / max) * 100) + "%";
      return h("li", { title: item.value + ": " + count(item.count) }, [bar, h("span", { text: item.value }), h("span", { class: "muted", text: count(item.count) })]);
    }));
  }

  function renderSchema(feature, stats) {
    var byName = {};
    if (stats) stats.columns.forEach(function (column) { byName[column.name] = column; });
    var columns = stats ? stats.columns : feature.columns;
    var rows = columns.map(function (column) {
      var s = byName[column.name];
      var role = feature.keys.indexOf(column.name) !== -1 ? "key" : feature.timestamp === column.name ? "timestamp" : "";
      return h("tr", { "data-column": column.name }, [
        h("td", {}, [h("code", { text: column.name }), role ? h("div", { class: "muted small", text: role }) : null]),
        h("td", {}, [h("code", { text: column.type })]),
        h("td", { class: "num", text: s ? count(s.nullCount) : "…" }),
        h("td", { class: "num", text: s ? count(s.distinctCount) : "…" }),
        h("td", { class: "mono", text: s ? show(s.min) : "…" }),
        h("td", { class: "mono", text: s ? show(s.max) : "…" }),
        h("td", {}, [s ? (s.histogram ? histogram(s) : topValues(s)) : null]),
      ]);
    });
    return h("div", { class: "table-wrap" }, [h("table", { id: "schema" }, [
      h("thead", {}, [h("tr", {}, ["column", "type", "nulls", "distinct", "min", "max", "distribution"].map(function (label) { return h("th", { text: label }); }))]),
      h("tbody", {}, rows),
    ])]);
  }

  function renderDetail(name) {
    var main = document.getElementById("detail");
    if (!name) {
      main.textContent = "";
      main.appendChild(h("h1", { text: "Features" }));
      main.appendChild(h("p", { class: "lede", text: "Pick a feature to see its definition, schema and column statistics." }));
      return;
    }
    main.textContent = "";
    main.appendChild(h("p", { class: "muted", text: "Loading " + name + "…" }));
    api("/features/" + encodeURIComponent(name)).then(function (feature) {
      if (state.selected !== name) return;
      main.textContent = "";
      var online = feature.online;
      main.appendChild(h("h1", { id: "feature-name", text: feature.name }));
      main.appendChild(h("p", { class: "lede", id: "feature-description", text: feature.description || "No description." }));
      main.appendChild(h("div", { class: "tags" }, feature.tags.map(function (tag) { return h("span", { class: "tag", text: tag }); })));
      main.appendChild(h("dl", { class: "facts" }, [
        fact("keys", h("code", { text: feature.keys.join(", ") })),
        fact("timestamp", feature.timestamp ? h("code", { text: feature.timestamp }) : "none"),
        fact("source", h("code", { text: feature.source })),
        fact("rows", feature.offline ? count(feature.offline.rows) : "not built"),
        fact("size", feature.offline ? bytes(feature.offline.bytes) : "–"),
        fact("built", feature.offline ? ago(feature.offline.builtAt) : "not built", feature.offline ? new Date(feature.offline.builtAt).toLocaleString() : null),
        fact("online", h("span", { id: "online-state", class: "state-" + online.state, text: onlineText(online) }),
          online.buildId ? "build " + online.buildId.slice(0, 12) + (feature.onlineTtlMs ? " · TTL " + Math.round(feature.onlineTtlMs / 3600000) + " h" : "") : online.message || null),
      ]));
      main.appendChild(h("h2", { text: "Transform" }));
      main.appendChild(feature.sql ? h("pre", { class: "sql", id: "sql" }, [h("code", { text: feature.sql })]) : h("p", { class: "error", text: feature.sqlError || "No SQL." }));
      main.appendChild(h("h2", { text: "Schema and statistics" }));
      if (!feature.offline) {
        main.appendChild(h("p", { class: "notice", text: "Not built yet: build it with mlforge build --features " + feature.name + " to see its schema and statistics." }));
        return;
      }
      var holder = h("div", { id: "schema-holder" }, [renderSchema(feature, null)]);
      main.appendChild(holder);
      api("/features/" + encodeURIComponent(name) + "/stats").then(function (stats) {
        if (state.selected !== name) return;
        holder.textContent = "";
        holder.appendChild(renderSchema(feature, stats));
        holder.setAttribute("data-stats", "ready");
      }).catch(function (error) {
        holder.appendChild(h("p", { class: "error", text: "Statistics failed: " + error.message }));
      });
    }).catch(function (error) {
      main.textContent = "";
      main.appendChild(h("p", { class: "error", text: error.message }));
    });
  }

  function route() {
    var match = /^#\/feature\/(.+)$/.exec(location.hash);
    state.selected = match ? decodeURIComponent(match[1]) : null;
    renderList();
    renderDetail(state.selected);
  }

  document.getElementById("search").addEventListener("input", function (event) {
    state.query = event.target.value.trim().toLowerCase();
    renderList();
  });
  window.addEventListener("hashchange", route);

  api("/features").then(function (body) {
    state.features = body.features;
    state.definitions = body.definitions || "";
    document.getElementById("project").textContent = state.definitions;
    document.title = (state.definitions ? state.definitions + " · " : "") + "mlforge feature catalog";
    renderTags();
    route();
    document.body.setAttribute("data-ready", "true");
  }).catch(function (error) {
    var main = document.getElementById("detail");
    main.textContent = "";
    main.appendChild(h("p", { class: "error", text: "Could not load the features: " + error.message }));
  });
})();
`;
