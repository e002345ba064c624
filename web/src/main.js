// SPDX-License-Identifier: GPL-2.0-or-later
// The sluice controller's web UI. One WebSocket (subprotocol sluice.v1,
// docs/protocol.md): hello with a UI token, then the controller pushes a
// "snapshot" (hosts, topologies with nodes and links) whenever the testbed
// changes and "stats" (per link direction counters and rates) whenever a
// host reports. The graph is drawn with Cytoscape, the per-link time series
// with uPlot; history before the page opened comes from /api/series.
import cytoscape from 'cytoscape';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';

const HISTORY = 300; // points kept per link direction
const state = {
	token: null,
	ws: null,
	backoff: 500,
	snapshot: { hosts: [], topologies: [] },
	topology: null, // name shown
	links: new Map(), // "topo|a|b|dir" -> latest stats row
	series: new Map(), // "topo|a|b" -> {t: [], up: [], down: []}
	selected: null, // "topo|a|b"
	plot: null,
	cy: null,
};
window.sluice = state; // for the tests and the curious

const $ = (sel) => document.querySelector(sel);

function fmtRate(bps) {
	if (bps == null || isNaN(bps)) return '';
	const u = [['G', 1e9], ['M', 1e6], ['k', 1e3]];
	for (const [p, v] of u) if (bps >= v) return (bps / v).toFixed(2) + ' ' + p + 'bit/s';
	return bps.toFixed(0) + ' bit/s';
}

// "20mbit", "1.5gbit", "800kbit", "1000000bit" -> bit/s (docs/topology.md).
function parseRate(s) {
	if (typeof s !== 'string') return null;
	const m = s.trim().toLowerCase().match(/^([0-9.]+)\s*(bit|kbit|mbit|gbit|tbit|bps|kbps|mbps|gbps)?$/);
	if (!m) return null;
	const mult = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12,
		bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9 }[m[2] || 'bit'];
	return parseFloat(m[1]) * mult;
}

function setStatus(text, cls) {
	const s = $('#status');
	s.textContent = text;
	s.className = 'status ' + (cls || '');
}

function linkKey(t, a, b) { return `${t}|${a}|${b}`; }

// The capacity of a direction: a runtime policy's rate, else the file's.
function capacity(link, dir) {
	const p = link.policy || {};
	const pol = p[dir] || p.both;
	const r = pol && parseRate(pol.rate);
	if (r) return r;
	return dir === 'up' ? link.rate_up : link.rate_down;
}

function utilColor(u) {
	if (u == null) return '#9aa3b2';
	const x = Math.max(0, Math.min(1, u));
	return `hsl(${Math.round(120 * (1 - x))}, 75%, 42%)`;
}

function currentTopology() {
	return state.snapshot.topologies.find((t) => t.name === state.topology);
}

function renderHosts() {
	const tb = $('#hosts tbody');
	tb.replaceChildren(...state.snapshot.hosts.map((h) => {
		const tr = document.createElement('tr');
		tr.dataset.host = h.id;
		const seen = h.last_seen ? new Date(h.last_seen * 1000).toLocaleTimeString() : '';
		for (const [v, cls] of [[h.id], [h.state, h.state], [h.version || ''], [seen]]) {
			const td = document.createElement('td');
			td.textContent = v;
			if (cls) td.className = cls;
			tr.append(td);
		}
		return tr;
	}));
}

function renderTopologySelect() {
	const sel = $('#topology');
	const names = state.snapshot.topologies.map((t) => t.name);
	if (!names.includes(state.topology)) state.topology = names[0] || null;
	sel.replaceChildren(...names.map((n) => {
		const o = document.createElement('option');
		o.value = o.textContent = n;
		o.selected = n === state.topology;
		return o;
	}));
}

function renderGraph() {
	const t = currentTopology();
	const els = [];
	if (t) {
		for (const n of t.nodes) {
			els.push({ group: 'nodes', data: { id: n.name, label: n.name, kind: n.kind, host: n.host } });
		}
		for (const l of t.links) {
			els.push({ group: 'edges', data: { id: linkKey(t.name, l.a, l.b), source: l.a, target: l.b,
				label: '', color: utilColor(null), state: l.state } });
		}
	}
	const ids = els.map((e) => e.data.id).sort().join(',');
	if (state.cy && state.cy.scratch('ids') === ids) {
		// Same graph: keep the layout, update link states.
		if (t) for (const l of t.links) {
			state.cy.getElementById(linkKey(t.name, l.a, l.b)).data('state', l.state);
		}
		return;
	}
	if (state.cy) state.cy.destroy();
	state.cy = cytoscape({
		container: $('#graph'),
		elements: els,
		wheelSensitivity: 0.3,
		style: [
			{ selector: 'node', style: { label: 'data(label)', 'text-valign': 'center',
				'background-color': '#3b5b92', color: '#fff', 'font-size': 11,
				width: 44, height: 44 } },
			{ selector: 'node[kind = "router"]', style: { shape: 'round-rectangle',
				'background-color': '#6b4c9a' } },
			{ selector: 'edge', style: { width: 5, 'line-color': 'data(color)', label: 'data(label)',
				'font-size': 10, 'text-background-color': '#fff', 'text-background-opacity': 0.8,
				'curve-style': 'bezier' } },
			{ selector: 'edge[state = "down"]', style: { 'line-style': 'dashed', 'line-color': '#bbb' } },
			{ selector: 'edge:selected', style: { width: 8 } },
		],
		layout: { name: els.length > 2 ? 'cose' : 'grid', animate: false, padding: 30 },
	});
	state.cy.scratch('ids', ids);
	state.cy.on('tap', 'edge', (e) => selectLink(e.target.id()));
}

function renderLinks() {
	const t = currentTopology();
	const tb = $('#links tbody');
	const rows = [];
	if (t) for (const l of t.links) {
		for (const dir of ['up', 'down']) {
			const key = linkKey(t.name, l.a, l.b);
			const s = state.links.get(`${key}|${dir}`) || {};
			const cap = capacity(l, dir);
			const tr = document.createElement('tr');
			tr.dataset.link = key;
			tr.dataset.dir = dir;
			if (key === state.selected) tr.className = 'selected';
			const cells = [
				[dir === 'up' ? `${l.a} \u2192 ${l.b}` : `${l.b} \u2192 ${l.a}`, 'name'],
				[dir, 'dir'],
				[cap ? fmtRate(cap) : 'unshaped', 'rate'],
				[s.bytes ?? '', 'bytes num'],
				[s.packets ?? '', 'packets num'],
				[s.drops ?? '', 'drops num'],
				[s.bps != null ? fmtRate(s.bps) : '', 'bps num'],
				[s.bps != null && cap ? (100 * s.bps / cap).toFixed(1) + '%' : '', 'util num'],
			];
			for (const [v, cls] of cells) {
				const td = document.createElement('td');
				td.textContent = v;
				td.className = cls;
				tr.append(td);
			}
			tr.addEventListener('click', () => selectLink(key));
			rows.push(tr);
		}
	}
	tb.replaceChildren(...rows);
}

function colourEdges() {
	const t = currentTopology();
	if (!t || !state.cy) return;
	for (const l of t.links) {
		const key = linkKey(t.name, l.a, l.b);
		let u = null, bps = 0;
		for (const dir of ['up', 'down']) {
			const s = state.links.get(`${key}|${dir}`);
			const cap = capacity(l, dir);
			if (!s) continue;
			bps = Math.max(bps, s.bps);
			if (cap) u = Math.max(u ?? 0, s.bps / cap);
		}
		const e = state.cy.getElementById(key);
		e.data('color', utilColor(u));
		e.data('label', bps ? fmtRate(bps) : '');
	}
}

function ensureSeries(key) {
	if (!state.series.has(key)) state.series.set(key, { t: [], up: [], down: [] });
	return state.series.get(key);
}

function pushPoint(key, dir, ts, bps) {
	const s = ensureSeries(key);
	const n = s.t.length;
	if (n && Math.abs(s.t[n - 1] - ts) < 0.05) {
		s[dir][n - 1] = bps / 1e6;
	} else if (!n || ts > s.t[n - 1]) {
		s.t.push(ts);
		s.up.push(dir === 'up' ? bps / 1e6 : null);
		s.down.push(dir === 'down' ? bps / 1e6 : null);
		if (s.t.length > HISTORY) { s.t.shift(); s.up.shift(); s.down.shift(); }
	}
}

function drawPlot() {
	const box = $('#series');
	if (!state.selected) { box.replaceChildren(); return; }
	const s = ensureSeries(state.selected);
	const data = [s.t, s.up, s.down];
	if (!state.plot) {
		state.plot = new uPlot({
			width: Math.max(300, box.clientWidth || 380), height: 220,
			series: [{}, { label: 'up Mbit/s', stroke: '#3b5b92', spanGaps: true },
				{ label: 'down Mbit/s', stroke: '#c0622f', spanGaps: true }],
			axes: [{}, { label: 'Mbit/s' }],
		}, data, box);
	} else {
		state.plot.setData(data);
	}
}

async function selectLink(key) {
	state.selected = key;
	const [t, a, b] = key.split('|');
	$('#series-title').textContent = `Link ${a} \u2014 ${b} (${t})`;
	if (state.plot) { state.plot.destroy(); state.plot = null; }
	renderLinks();
	// History from the database, so the plot does not start empty.
	try {
		for (const dir of ['up', 'down']) {
			const r = await fetch(`/api/series?topology=${encodeURIComponent(t)}&a=${encodeURIComponent(a)}` +
				`&b=${encodeURIComponent(b)}&dir=${dir}&seconds=300`,
			{ headers: { Authorization: `Bearer ${state.token}` } });
			if (!r.ok) break;
			const pts = (await r.json()).points || [];
			for (let i = 1; i < pts.length; i++) {
				const dt = pts[i][0] - pts[i - 1][0];
				if (dt > 0) pushPoint(key, dir, pts[i][0], Math.max(0, (pts[i][2] - pts[i - 1][2]) * 8 / dt));
			}
		}
	} catch (e) { /* live points still come */ }
	drawPlot();
}

function onSnapshot(m) {
	state.snapshot = { hosts: m.hosts || [], topologies: m.topologies || [] };
	renderTopologySelect();
	renderHosts();
	renderGraph();
	renderLinks();
	colourEdges();
	const t = currentTopology();
	if (!state.selected && t && t.links.length) selectLink(linkKey(t.name, t.links[0].a, t.links[0].b));
}

function onStats(m) {
	for (const row of m.links) {
		const key = linkKey(row.topology, row.a, row.b);
		state.links.set(`${key}|${row.dir}`, row);
		pushPoint(key, row.dir, m.ts, row.bps);
	}
	renderLinks();
	colourEdges();
	if (state.selected) drawPlot();
}

function connect() {
	const proto = location.protocol === 'https:' ? 'wss' : 'ws';
	const ws = new WebSocket(`${proto}://${location.host}/ws`, 'sluice.v1');
	state.ws = ws;
	setStatus('connecting');
	ws.onopen = () => ws.send(JSON.stringify({ v: 1, type: 'hello', role: 'ui', token: state.token }));
	ws.onmessage = (ev) => {
		let m;
		try { m = JSON.parse(ev.data); } catch (e) { return; }
		if (m.type === 'welcome') {
			state.backoff = 500;
			setStatus('connected', 'connected');
		} else if (m.type === 'snapshot') {
			onSnapshot(m);
		} else if (m.type === 'stats') {
			onStats(m);
		} else if (m.type === 'error' && m.code === 'auth') {
			state.authFailed = true;
			localStorage.removeItem('sluice-token');
			showLogin('token not accepted');
		}
	};
	ws.onclose = () => {
		if (state.authFailed) return;
		setStatus('disconnected', 'error');
		setTimeout(connect, state.backoff);
		state.backoff = Math.min(state.backoff * 2, 10000);
	};
}

function showLogin(err) {
	setStatus('no token', 'error');
	$('#login').hidden = false;
	$('#login-error').textContent = err || '';
}

$('#login').addEventListener('submit', (e) => {
	e.preventDefault();
	state.token = $('#token').value.trim();
	if (!state.token) return;
	localStorage.setItem('sluice-token', state.token);
	state.authFailed = false;
	$('#login').hidden = true;
	connect();
});

$('#topology').addEventListener('change', (e) => {
	state.topology = e.target.value;
	state.selected = null;
	onSnapshot(state.snapshot);
});

const q = new URLSearchParams(location.search);
state.token = q.get('token') || localStorage.getItem('sluice-token');
if (q.get('token')) {
	localStorage.setItem('sluice-token', state.token);
	history.replaceState(null, '', location.pathname); // keep it out of the address bar
}
if (state.token) connect(); else showLogin();
