// app.js: trove's page, plain JavaScript with no dependency. Three views
// chosen by the URL's hash: results (#/), an item (#/item/ID) and the
// sources (#/sources). Everything that comes from a stored page (titles,
// paths, text) reaches the DOM through textContent or text nodes, never as
// HTML, and only http(s) URLs become links. Requests that change something
// carry the token the server wrote into the page's <meta>.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const token = document.querySelector('meta[name="trove-token"]').content;
  const utf8 = new TextEncoder();
  const fromUtf8 = new TextDecoder();
  const CONTEXT = 160; // characters of passage around the marked sentence

  const state = {
    results: [], selected: -1, seq: 0, controller: null, timer: 0,
    view: 'results', item: null, model: true, scanning: false,
  };

  // ---- helpers --------------------------------------------------------------

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function day(seconds) {
    return seconds > 0 ? new Date(seconds * 1000).toISOString().slice(0, 10) : '';
  }

  function when(seconds) {
    return seconds > 0 ? new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ') : 'never';
  }

  function plural(n, word) {
    return `${n} ${word}${n === 1 ? '' : 's'}`;
  }

  const TYPE_NAMES = { local: 'file', web: 'web page', bookmark: 'bookmark' };

  async function api(path, opts = {}) {
    const init = { method: opts.method || 'GET', headers: {}, signal: opts.signal };
    if (init.method !== 'GET') init.headers['X-Trove-Token'] = token;
    if (opts.body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    const res = await fetch(path, init);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) throw new Error(data && data.error ? data.error : `the server answered ${res.status}`);
    return data;
  }

  function show(node, text) {
    node.textContent = text || '';
    node.hidden = !text;
  }

  // A link for http(s) URLs only: a javascript: or data: URL stays text.
  function safeUrl(s) {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  // The passage with its best sentence marked. mark is [start, end) in
  // UTF-8 bytes (the server's offsets); the text around it is cut to
  // CONTEXT characters each side.
  function passageNode(passage, mark) {
    const p = el('p', 'passage');
    const bytes = utf8.encode(passage || '');
    let [s, e] = Array.isArray(mark) ? mark : [0, 0];
    s = Math.max(0, Math.min(s | 0, bytes.length));
    e = Math.max(s, Math.min(e | 0, bytes.length));
    const flat = (t) => t.replace(/\s+/g, ' ');
    let before = flat(fromUtf8.decode(bytes.subarray(0, s)));
    const middle = flat(fromUtf8.decode(bytes.subarray(s, e)));
    let after = flat(fromUtf8.decode(bytes.subarray(e)));
    if (before.length > CONTEXT) before = '…' + before.slice(before.length - CONTEXT);
    if (after.length > CONTEXT) after = after.slice(0, CONTEXT) + '…';
    p.append(before);
    if (middle) p.append(el('mark', null, middle));
    p.append(after);
    return p;
  }

  // ---- results ---------------------------------------------------------------

  function resultNode(r, i, list) {
    const li = el('li', 'result');
    li.id = `${list.id}-${i}`;
    li.setAttribute('role', 'option');
    li.setAttribute('aria-selected', 'false');
    li.dataset.id = r.id;
    const title = el('a', 'title', r.title || '(untitled)');
    title.href = `#/item/${r.id}`;
    const info = [r.source, TYPE_NAMES[r.type] || r.type, day(r.date)].filter(Boolean);
    if (r.link_hub) info.push('index page');
    li.append(title, el('div', 'info', info.join(' · ')), el('div', 'path', r.path));
    if (r.passage) li.append(passageNode(r.passage, r.mark));
    li.addEventListener('click', (ev) => {
      if (ev.target.closest('a')) return; // the title link routes itself
      select(i);
      openItem(r.id);
    });
    return li;
  }

  function render(list, results) {
    list.replaceChildren(...results.map((r, i) => resultNode(r, i, list)));
  }

  function select(i) {
    const nodes = $('results').children;
    if (!nodes.length) return;
    i = Math.max(0, Math.min(i, nodes.length - 1));
    if (state.selected >= 0 && nodes[state.selected]) nodes[state.selected].setAttribute('aria-selected', 'false');
    state.selected = i;
    nodes[i].setAttribute('aria-selected', 'true');
    $('q').setAttribute('aria-activedescendant', nodes[i].id);
    nodes[i].scrollIntoView({ block: 'nearest' });
  }

  function query() {
    return $('q').value.trim();
  }

  function searchParams(extra) {
    const p = new URLSearchParams(extra);
    p.set('mode', $('mode').value);
    if ($('source').value) p.set('source', $('source').value);
    if ($('type').value) p.set('type', $('type').value);
    return p;
  }

  async function search() {
    const q = query();
    const seq = ++state.seq;
    if (state.controller) state.controller.abort();
    if (!q) {
      state.results = [];
      state.selected = -1;
      render($('results'), []);
      delete $('results').dataset.query;
      $('empty').hidden = true;
      $('hint').hidden = false;
      show($('error'), '');
      $('status').textContent = '';
      return;
    }
    state.controller = new AbortController();
    const t0 = performance.now();
    try {
      const results = await api(`/api/search?${searchParams({ q })}`, { signal: state.controller.signal });
      if (seq !== state.seq) return; // a newer search was started
      state.results = results;
      state.selected = -1;
      render($('results'), results);
      $('results').dataset.query = q; // what they answer (tests wait for it)
      $('hint').hidden = true;
      $('empty').hidden = results.length > 0;
      show($('error'), '');
      $('status').textContent = `${plural(results.length, 'result')} in ${Math.round(performance.now() - t0)} ms`;
      if (results.length) select(0);
    } catch (e) {
      if (e.name === 'AbortError' || seq !== state.seq) return;
      show($('error'), e.message);
    }
  }

  function searchSoon() {
    clearTimeout(state.timer);
    state.timer = setTimeout(search, 120); // typing fast sends one request, not one per key
  }

  // ---- the item view -----------------------------------------------------------

  function openItem(id) {
    location.hash = `#/item/${id}`;
  }

  function metaRow(dl, name, value) {
    if (value === null || value === undefined || value === '') return;
    dl.append(el('dt', null, name), el('dd', null, value));
  }

  function renderOriginal(it) {
    const box = $('item-original');
    box.replaceChildren();
    const url = it.type !== 'local' ? safeUrl(it.path) : null;
    if (url) {
      const a = el('a', null, it.path);
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      box.append(a);
      return;
    }
    const code = el('code', null, it.path);
    const copy = el('button', null, 'Copy path');
    copy.type = 'button';
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(it.path);
        copy.textContent = 'Copied';
      } catch (e) { // no clipboard (an insecure context): select it to copy by hand
        const range = document.createRange();
        range.selectNodeContents(code);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        copy.textContent = 'Selected: press Ctrl+C';
      }
    });
    box.append(code, copy);
  }

  function renderHidden(hidden) {
    $('hide-btn').textContent = hidden ? 'Unhide' : 'Hide';
    $('hidden-note').textContent = hidden ? 'Hidden: search skips this item.' : '';
  }

  async function loadLike(id) {
    const list = $('like-results');
    list.replaceChildren();
    if (!state.model) {
      $('like-note').textContent = 'Needs the model, which this server runs without.';
      return;
    }
    $('like-note').textContent = 'Looking…';
    try {
      const results = await api(`/api/search?like=${id}&n=6`);
      if (!state.item || state.item.id !== id) return;
      render(list, results);
      $('like-note').textContent = results.length ? '' : 'Nothing similar.';
    } catch (e) {
      $('like-note').textContent = e.message;
    }
  }

  async function showItem(id) {
    show($('item-error'), '');
    $('item').hidden = true;
    try {
      const it = await api(`/api/items/${id}`);
      state.item = it;
      $('item-title').textContent = it.title || '(untitled)';
      renderOriginal(it);
      const dl = $('item-meta');
      dl.replaceChildren();
      metaRow(dl, 'source', it.source);
      metaRow(dl, 'type', TYPE_NAMES[it.type] || it.type);
      metaRow(dl, it.type === 'local' ? 'modified' : 'visited', day(it.date));
      metaRow(dl, 'author', it.author);
      metaRow(dl, 'language', it.language);
      metaRow(dl, 'description', it.description);
      metaRow(dl, 'skipped', it.skipped);
      metaRow(dl, 'error', it.error);
      metaRow(dl, 'id', it.id);
      renderHidden(it.hidden);
      $('item-text').textContent = it.text || '';
      $('item').hidden = false;
      loadLike(it.id);
    } catch (e) {
      show($('item-error'), e.message);
    }
  }

  async function toggleHidden() {
    const it = state.item;
    if (!it) return;
    $('hide-btn').disabled = true;
    try {
      const r = await api(`/api/items/${it.id}/${it.hidden ? 'unhide' : 'hide'}`, { method: 'POST' });
      it.hidden = r.hidden;
      renderHidden(it.hidden);
    } catch (e) {
      $('hidden-note').textContent = e.message;
    } finally {
      $('hide-btn').disabled = false;
    }
  }

  // ---- the sources view ---------------------------------------------------------

  function sourceNode(s) {
    const li = el('li', 'source');
    li.dataset.name = s.name;
    const h = el('h3', null, s.name);
    h.append(el('span', `badge ${s.status}`, s.status));
    li.append(h, el('div', 'where', `${s.type}  ${s.location}`));
    const counts = [plural(s.items, 'item'), `${s.hidden} hidden`, `${s.skipped} skipped`,
      plural(s.passages, 'passage'), `last scan ${when(s.last_scan_at)}` +
      (s.last_scan_at ? ` (${(s.last_scan_ms / 1000).toFixed(1)} s)` : '')];
    li.append(el('div', 'counts', counts.join(' · ')));
    if (s.status_msg) li.append(el('div', 'error', s.status_msg));
    const buttons = el('div', 'buttons');
    const scan = el('button', 'scan-one', 'Scan now');
    scan.type = 'button';
    scan.disabled = state.scanning;
    scan.addEventListener('click', () => startScan(s.name));
    const remove = el('button', null, 'Remove');
    remove.type = 'button';
    remove.disabled = state.scanning;
    let armed = 0; // a second click within 4 s confirms (no dialog)
    remove.addEventListener('click', async () => {
      if (!armed) {
        remove.textContent = 'Click again to remove it and its items';
        armed = setTimeout(() => { armed = 0; remove.textContent = 'Remove'; }, 4000);
        return;
      }
      clearTimeout(armed);
      try {
        await api(`/api/sources/${encodeURIComponent(s.name)}`, { method: 'DELETE' });
        loadSources();
      } catch (e) {
        setScanResult(e.message, 'failed');
      }
    });
    buttons.append(scan, remove);
    li.append(buttons);
    if (s.exclude_domains) li.append(webEditNode(s));
    return li;
  }

  // A browser source's excluded domains and (history sources) retention,
  // saved with POST /api/sources/NAME, as `trove source edit` does.
  function webEditNode(s) {
    const form = el('form', 'web-edit');
    const domains = el('input');
    domains.name = 'exclude_domains';
    domains.autocomplete = 'off';
    domains.placeholder = 'bank.example, mail.example';
    domains.value = s.exclude_domains.join(', ');
    const dl = el('label', 'wide', 'Excluded domains ');
    dl.append(domains);
    form.append(dl);
    let retention = null;
    if (s.retention) {
      retention = el('select');
      retention.name = 'retention';
      for (const [v, text] of [['keep', 'keep pages the browser expired'],
        ['mirror', 'mirror the history']]) {
        const o = el('option', null, text);
        o.value = v;
        retention.append(o);
      }
      retention.value = s.retention;
      const rl = el('label', null, 'Retention ');
      rl.append(retention);
      form.append(rl);
    }
    const save = el('button', null, 'Save');
    save.type = 'submit';
    save.disabled = state.scanning;
    form.append(save);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { exclude_domains: domains.value.split(/[\s,]+/).filter(Boolean) };
      if (retention) body.retention = retention.value;
      try {
        const r = await api(`/api/sources/${encodeURIComponent(s.name)}`, { method: 'POST', body });
        setScanResult(`${s.name} saved: ${plural(r.removed, 'page')} on excluded domains removed`,
          'ok');
        loadSources();
      } catch (e) {
        setScanResult(e.message, 'failed');
      }
    });
    return form;
  }

  async function loadSources() {
    try {
      const [list, stats] = await Promise.all([api('/api/sources'), api('/api/stats')]);
      $('sources').replaceChildren(...list.sources.map(sourceNode));
      $('no-sources').hidden = list.sources.length > 0;
      fillSourceFilter(list.sources);
      const dl = $('stats');
      dl.replaceChildren();
      metaRow(dl, 'database', `${stats.database} (${(stats.bytes / 1e6).toFixed(1)} MB)`);
      metaRow(dl, 'items', stats.items);
      metaRow(dl, 'passages', stats.passages);
      metaRow(dl, 'vectors', `${stats.vectors} (${stats.indexed} in the index)`);
      metaRow(dl, 'model', stats.model || 'none: keyword search only');
      for (const r of stats.skipped) metaRow(dl, `skipped: ${r.reason}`, r.count);
    } catch (e) {
      setScanResult(e.message, 'failed');
    }
  }

  function fillSourceFilter(sources) {
    const sel = $('source');
    const keep = sel.value;
    const opts = [el('option', null, 'all')];
    opts[0].value = '';
    for (const s of sources) {
      const o = el('option', null, s.name);
      o.value = s.name;
      opts.push(o);
    }
    sel.replaceChildren(...opts);
    sel.value = sources.some((s) => s.name === keep) ? keep : '';
  }

  function setScanResult(text, cls) {
    const p = $('scan-result');
    p.textContent = text;
    p.className = `scan-result ${cls || ''}`;
  }

  async function startScan(name) {
    setScanResult('', '');
    try {
      await api('/api/scan', { method: 'POST', body: name ? { source: name } : {} });
    } catch (e) {
      setScanResult(e.message, 'failed');
    }
  }

  // watch: the server's watcher scans (it is stopped with the server, not here)
  function setScanning(on, watch) {
    state.scanning = on;
    $('scan-all').disabled = on;
    $('scan-stop').hidden = !on || !!watch;
    $('progress').hidden = !on;
    for (const b of document.querySelectorAll('.source button')) b.disabled = on;
  }

  function reportText(r) {
    const x = r.report;
    const parts = [`${x.seen} seen`, `${x.added} new`, `${x.changed} changed`, `${x.deleted} deleted`,
      `${x.skipped} skipped`];
    if (x.embedded) parts.push(`${plural(x.passages, 'passage')} embedded`);
    return `${r.source}: ${r.ok ? parts.join(', ') + ` in ${x.seconds.toFixed(1)} s` : r.error}`;
  }

  function onScan(ev) {
    let s;
    try { s = JSON.parse(ev.data); } catch (e) { return; }
    if (s.state === 'running') {
      setScanning(true, s.watch);
      $('progress-what').textContent = s.what
        ? `${s.what}: ${s.elapsed.toFixed(1)} s` + (s.eta !== null && s.eta !== undefined
          ? `, ${s.eta_lower_bound ? 'at least' : 'about'} ${Math.ceil(s.eta)} s left` : '')
        : 'starting…';
      // the embed stage counts passages (embedded of those cut) once it has some
      $('stages').replaceChildren(...(s.stages || []).map((st) =>
        el('li', 'stage', (st.passages !== undefined
          ? `${st.name} ${st.count}/${st.passages} passages` : `${st.name} ${st.count}`) +
          (st.rate >= 1 ? ` · ${Math.round(st.rate)}/s` : ''))));
      $('status').textContent = s.source ? `scanning ${s.source}…` : 'scanning…';
    } else if (s.state === 'source-done') {
      setScanResult(reportText(s), s.ok ? 'ok' : 'failed');
    } else if (s.state === 'done') {
      const was = state.scanning;
      setScanning(false);
      if (was) {
        const lines = (s.reports || []).map(reportText);
        const head = s.stopped ? 'Scan stopped. ' : s.watch && s.ok && !s.full ? 'Updated. '
          : s.ok ? 'Scan complete. ' : 'Scan failed: ';
        setScanResult(head + (s.ok || s.stopped ? lines.join('; ') : (s.error || '') + ' ' + lines.join('; ')),
          s.ok ? 'ok' : 'failed');
        $('status').textContent = s.stopped ? 'scan stopped' : s.ok ? 'scan complete' : 'scan failed';
        if (state.view === 'sources') loadSources();
        if (query()) search();
      }
    }
  }

  // ---- routing and keys ----------------------------------------------------------

  function route() {
    const h = location.hash;
    const m = /^#\/item\/(\d+)$/.exec(h);
    state.view = m ? 'item' : h === '#/sources' ? 'sources' : 'results';
    $('results-view').hidden = state.view !== 'results';
    $('item-view').hidden = state.view !== 'item';
    $('sources-view').hidden = state.view !== 'sources';
    $('filters').hidden = state.view === 'sources';
    if (m) showItem(Number(m[1]));
    else state.item = null;
    if (state.view === 'sources') loadSources();
    if (state.view === 'results' && state.selected >= 0) select(state.selected);
  }

  function typing(t) {
    return t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement;
  }

  function onKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const inBox = ev.target === $('q');
    if (ev.key === '/' && !typing(ev.target)) {
      ev.preventDefault();
      if (state.view !== 'results') location.hash = '#/';
      $('q').focus();
      $('q').select();
      return;
    }
    if (state.view === 'item') {
      if (ev.key === 'Escape' || (ev.key === 'Backspace' && !typing(ev.target))) {
        ev.preventDefault();
        location.hash = '#/';
        $('q').focus();
      }
      return;
    }
    if (state.view !== 'results' || (typing(ev.target) && !inBox)) return;
    if (ev.key === 'ArrowDown' || (!inBox && ev.key === 'j')) {
      ev.preventDefault();
      select(state.selected + 1);
    } else if (ev.key === 'ArrowUp' || (!inBox && ev.key === 'k')) {
      ev.preventDefault();
      select(state.selected - 1);
    } else if (ev.key === 'Enter' && state.results.length) {
      ev.preventDefault();
      const i = state.selected >= 0 ? state.selected : 0;
      openItem(state.results[i].id);
    } else if (ev.key === 'Escape' && inBox) {
      $('q').blur();
    }
  }

  async function init() {
    $('q').addEventListener('input', searchSoon);
    $('search-form').addEventListener('submit', (ev) => ev.preventDefault());
    for (const id of ['mode', 'source', 'type']) $(id).addEventListener('change', search);
    $('hide-btn').addEventListener('click', toggleHidden);
    $('scan-all').addEventListener('click', () => startScan(null));
    $('scan-stop').addEventListener('click', () => api('/api/scan/stop', { method: 'POST' }).catch(() => {}));
    $('add-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = ev.target;
      const field = (name) => f.elements.namedItem(name).value.trim();
      const globs = (s) => s.split(/[\s,]+/).filter(Boolean);
      try {
        await api('/api/sources', { method: 'POST', body: {
          name: field('name'), type: field('type'), location: field('location'),
          include: globs(field('include')), exclude: globs(field('exclude')) } });
        f.reset();
        show($('add-error'), '');
        loadSources();
      } catch (e) {
        show($('add-error'), e.message);
      }
    });
    document.addEventListener('keydown', onKey);
    window.addEventListener('hashchange', route);
    const events = new EventSource('/api/events');
    events.addEventListener('scan', onScan);
    route();
    if (state.view === 'results') $('q').focus();
    try {
      const [stats, list] = await Promise.all([api('/api/stats'), api('/api/sources')]);
      state.model = !!stats.model;
      if (!state.model) {
        $('mode').value = 'keyword';
        $('mode').querySelector('option[value="semantic"]').disabled = true;
        $('status').textContent = 'keyword search only: the server runs without the model';
      }
      fillSourceFilter(list.sources);
    } catch (e) {
      $('status').textContent = e.message;
    }
  }

  init();
})();
