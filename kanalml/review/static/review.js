// The review page. Post text is untrusted: it only ever reaches the page through textContent.
"use strict";
(function () {
  const live = document.body.dataset.mode === "server";
  const BATCH = 100; // cards rendered at a time; more are added as the cursor nears the end
  const BIDI = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
  const $ = (id) => document.getElementById(id);
  const list = $("items");
  let items = [];
  let reviewer = "";
  let decisions = {}; // key -> {reviewer: 0|1}
  let view = []; // indices of the items the filters let through, in review order
  let cursor = 0;
  let shown = 0;
  const cards = new Map(); // item index -> card element
  const undo = []; // item indices decided in this session, latest last
  let pending = Promise.resolve(); // requests go one after another: an undo never overtakes
  const csrf = live ? document.querySelector('meta[name="csrf-token"]').content : "";

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // Text as text nodes; bidi controls (e.g. an RTL override) shown as visible marks, not obeyed.
  function appendText(parent, text) {
    let last = 0;
    for (const match of text.matchAll(BIDI)) {
      parent.append(document.createTextNode(text.slice(last, match.index)));
      const code = match[0].codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
      parent.append(el("span", "ctl", "U+" + code));
      last = match.index + match[0].length;
    }
    parent.append(document.createTextNode(text.slice(last)));
  }

  function escapeRegExp(word) {
    return word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  function highlighted(text, words) {
    const node = el("p", "text");
    const usable = words.filter((w) => w.length > 1);
    if (!usable.length) {
      appendText(node, text);
      return node;
    }
    // whole words only: "ain" is not marked inside "main"
    const pattern = new RegExp("(?<![\\p{L}\\p{N}])(" + usable.map(escapeRegExp).join("|") +
      ")(?![\\p{L}\\p{N}])", "giu");
    text.split(pattern).forEach((part, i) => {
      if (i % 2) {
        const mark = el("mark");
        appendText(mark, part);
        node.append(mark);
      } else {
        appendText(node, part);
      }
    });
    return node;
  }

  function metaRow(parent, name, value) {
    if (value === null || value === undefined || value === "") return;
    const row = el("div");
    row.append(el("dt", "", name));
    const dd = el("dd");
    appendText(dd, String(value));
    row.append(dd);
    parent.append(row);
  }

  function mine(item) {
    const by = decisions[item.key];
    return by && reviewer in by ? by[reviewer] : undefined;
  }

  function decisionText(item) {
    const label = mine(item);
    if (label === 1) return "extremist · saved";
    if (label === 0) return "not extremist · saved";
    return live ? "undecided" : "";
  }

  function othersText(item) {
    const by = decisions[item.key] || {};
    return Object.keys(by).filter((r) => r !== reviewer).sort()
      .map((r) => r + ": " + (by[r] === 1 ? "extremist" : "not extremist")).join(" · ");
  }

  function card(index) {
    const item = items[index];
    const node = el("article", "item");
    node.dataset.index = String(index);
    node.dataset.key = item.key;
    const head = el("header");
    head.append(el("span", "rank", "#" + item.rank));
    if (item.score !== null) {
      const bar = el("span", "bar");
      const fill = el("span", "fill");
      fill.style.width = Math.round(Math.max(0, Math.min(1, item.score)) * 100) + "%";
      bar.append(fill);
      bar.title = "score " + item.score.toFixed(3);
      head.append(bar, el("span", "score", item.score.toFixed(3)));
    }
    if (item.category) head.append(el("span", "category", item.category));
    if (item.flagged) head.append(el("span", "flag", "flagged"));
    head.append(el("span", "decision", ""));
    node.append(head, highlighted(item.text, item.evidence || []));
    const meta = el("dl", "meta");
    metaRow(meta, "copies", item.copies);
    metaRow(meta, "channels", item.channels);
    metaRow(meta, "first seen", item.first_seen);
    metaRow(meta, "last seen", item.last_seen);
    metaRow(meta, "reach", item.reach);
    metaRow(meta, "source", item.source);
    if (item.message_ids && item.message_ids !== item.source) {
      metaRow(meta, "message ids", item.message_ids);
    }
    node.append(meta, el("p", "others", ""));
    node.addEventListener("click", () => move(view.indexOf(index) - cursor));
    refresh(index, node);
    return node;
  }

  function refresh(index, node) {
    node = node || cards.get(index);
    if (!node) return;
    const item = items[index];
    const label = mine(item);
    node.classList.toggle("decided-1", label === 1);
    node.classList.toggle("decided-0", label === 0);
    const status = node.querySelector(".decision");
    status.textContent = decisionText(item);
    status.className = "decision" + (label === undefined ? "" : " d" + label);
    node.querySelector(".others").textContent = othersText(item);
  }

  function renderMore() {
    const end = Math.min(view.length, shown + BATCH);
    const fragment = document.createDocumentFragment();
    for (; shown < end; shown++) {
      const node = card(view[shown]);
      cards.set(view[shown], node);
      fragment.append(node);
    }
    list.append(fragment);
    $("more").hidden = shown >= view.length;
    $("more").textContent = (view.length - shown) + " more below";
  }

  function passes(item, filters) {
    if (filters.flagged && !item.flagged) return false;
    if (filters.undecided && mine(item) !== undefined) return false;
    if (filters.channel && !item.channels.split(", ").includes(filters.channel)) return false;
    if (filters.category && item.category !== filters.category) return false;
    if (filters.text) {
      const haystack = (item.text + " " + item.channels + " " + item.source).toLowerCase();
      if (!haystack.includes(filters.text)) return false;
    }
    return true;
  }

  function applyFilters() {
    const filters = {
      text: $("filter-text").value.trim().toLowerCase(),
      channel: $("filter-channel").value,
      category: $("filter-category").value,
      flagged: $("filter-flagged").checked,
      undecided: $("filter-undecided").checked,
    };
    view = [];
    items.forEach((item, i) => { if (passes(item, filters)) view.push(i); });
    list.replaceChildren();
    cards.clear();
    shown = 0;
    cursor = 0;
    renderMore();
    $("shown").textContent = view.length + " of " + items.length + " shown";
    move(0);
  }

  function move(step) {
    if (!view.length) return;
    const old = cards.get(view[cursor]);
    if (old) old.classList.remove("current");
    cursor = Math.max(0, Math.min(view.length - 1, cursor + step));
    while (cursor >= shown - 5 && shown < view.length) renderMore();
    const node = cards.get(view[cursor]);
    node.classList.add("current");
    if (step !== 0) node.scrollIntoView({ block: "nearest" });
  }

  function counters() {
    let reviewed = 0;
    let expected = 0;
    let covered = 0;
    for (const item of items) {
      const score = item.score || 0;
      expected += score;
      if (mine(item) !== undefined) {
        reviewed += 1;
        covered += score;
      }
    }
    $("counter").textContent = live ? reviewed + " of " + items.length + " reviewed"
      : items.length + " items";
    $("coverage").textContent = "expected positives (sum of scores) " + expected.toFixed(1) +
      (live ? "; reviewed items cover " +
        (expected > 0 ? (100 * covered / expected).toFixed(1) : "0.0") + "%" : "");
    const disagree = items.filter((item) => {
      const labels = Object.values(decisions[item.key] || {});
      return labels.length > 1 && new Set(labels).size > 1;
    });
    const section = $("disagreements");
    section.hidden = !disagree.length;
    const entries = disagree.map((item) => {
      const entry = el("li");
      const jump = el("button", "", "#" + item.rank);
      jump.addEventListener("click", () => {
        const at = view.indexOf(items.indexOf(item));
        if (at >= 0) move(at - cursor);
      });
      entry.append(jump, document.createTextNode(" " + othersText(item) +
        (mine(item) !== undefined ? " · " + reviewer + " (you): " +
          (mine(item) === 1 ? "extremist" : "not extremist") : "")));
      return entry;
    });
    $("disagreement-list").replaceChildren(...entries);
  }

  function say(text, kind) {
    const status = $("status");
    status.textContent = text;
    status.className = kind || "";
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(response.status + " " + (await response.text()));
    return response.json();
  }

  async function record(index, label, started) {
    const item = items[index];
    const node = cards.get(index);
    if (node) node.querySelector(".decision").textContent = "saving…";
    say("saving #" + item.rank + "…");
    try {
      const answer = await post(label === null ? "/api/undo" : "/api/decide",
        { key: item.key, label: label });
      decisions[item.key] = answer.reviewers;
      refresh(index);
      counters();
      const took = performance.now() - started;
      if (node) node.dataset.roundTrip = took.toFixed(1);
      say((label === null ? "undone" : "saved") + ": #" + item.rank + " at " + answer.decided_at,
        "saved");
    } catch (error) {
      if (node) node.querySelector(".decision").textContent = "NOT saved";
      say("NOT saved (#" + item.rank + "): " + error.message + " - press the key again", "error");
    }
  }

  function decide(label, started) {
    if (!live || !view.length) return;
    const index = view[cursor];
    undo.push(index);
    pending = pending.then(() => record(index, label, started));
    move(1);
  }

  function undoLast(started) {
    if (!live) return;
    const index = undo.pop();
    if (index === undefined) {
      say("nothing to undo");
      return;
    }
    const at = view.indexOf(index);
    if (at >= 0) move(at - cursor);
    pending = pending.then(() => record(index, null, started));
  }

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const started = performance.now();
    const actions = {
      j: () => move(1), k: () => move(-1), s: () => move(1),
      1: () => decide(1, started), 0: () => decide(0, started), u: () => undoLast(started),
      "/": () => $("filter-text").focus(),
    };
    const action = actions[event.key];
    if (action) {
      event.preventDefault();
      action();
    }
  });

  function options(select, values) {
    for (const value of [...values].sort()) select.append(new Option(value, value));
  }

  function start(data) {
    items = data.items;
    reviewer = data.reviewer;
    decisions = data.decisions || {};
    $("queue-name").textContent = data.name + (live ? " · reviewer " + reviewer : "");
    $("readonly").hidden = live;
    $("keys").textContent = live ? $("keys").textContent : "j/k move · / search";
    const channels = new Set();
    const categories = new Set();
    for (const item of items) {
      item.channels.split(", ").forEach((c) => c && channels.add(c));
      if (item.category) categories.add(item.category);
    }
    options($("filter-channel"), channels);
    options($("filter-category"), categories);
    let timer = 0;
    $("filter-text").addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(applyFilters, 150);
    });
    for (const id of ["filter-channel", "filter-category", "filter-flagged", "filter-undecided"]) {
      $(id).addEventListener("change", applyFilters);
    }
    applyFilters();
    counters();
    document.body.dataset.readyMs = performance.now().toFixed(1);
    document.body.dataset.ready = "1";
  }

  if (live) {
    fetch("/api/queue", { credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error(response.status + " " + response.statusText);
        return response.json();
      })
      .then(start)
      .catch((error) => say("cannot load the queue: " + error.message, "error"));
  } else {
    start(JSON.parse($("queue-data").textContent));
  }
})();
