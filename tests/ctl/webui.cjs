// SPDX-License-Identifier: GPL-2.0-or-later
// The web UI in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core from web/node_modules): the page loads, shows the
// topology's nodes and links, and a link's byte counter grows while the
// host reports traffic. Keeps a screenshot.
// Usage: node webui.cjs URL TOKEN SCREENSHOT NODES LINKS [TOPOLOGY [HOST
//        [A|B [A|B|DIR|RATE]]]]
// TOPOLOGY, HOST and the link A|B whose up counter must grow default to
// demo, h1 and h1|r1; A|B|DIR|RATE checks the rate shown for a direction
// (a policy the test changed, e.g. "r1|h2|up|10.00 Mbit/s").
const path = require('path');
const { chromium } = require(path.join(__dirname, '../../web/node_modules/playwright-core'));

const [url, token, shot, wantNodes, wantLinks, topo = 'demo', host = 'h1',
	link = 'h1|r1', wantRate = ''] = process.argv.slice(2);
const linkId = `${topo}|${link}`;

function check(cond, what) {
	if (!cond) throw new Error(what);
	console.log('ok: ' + what);
}

(async () => {
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
	});
	let code = 0;
	const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	try {
		await page.goto(`${url}/?token=${encodeURIComponent(token)}`);
		await page.waitForSelector('#status.connected', { timeout: 10000 });
		check(true, 'page loaded and the WebSocket is connected');
		await page.waitForFunction(() => window.sluice.cy && window.sluice.cy.nodes().length > 0,
			null, { timeout: 10000 });
		const nodes = await page.evaluate(() => window.sluice.cy.nodes().map((n) => n.id()).sort().join(','));
		const edges = await page.evaluate(() => window.sluice.cy.edges().length);
		check(nodes === wantNodes, `graph shows nodes ${nodes} (expected ${wantNodes})`);
		check(edges === Number(wantLinks), `graph shows ${edges} links (expected ${wantLinks})`);
		const hostRow = await page.textContent(`#hosts tbody tr[data-host="${host}"]`);
		check(hostRow.includes('online'), `hosts table shows ${host} online (${hostRow.trim()})`);
		const cell = `tr[data-link="${linkId}"][data-dir="up"] td.bytes`;
		await page.waitForFunction((sel) => {
			const td = document.querySelector(sel);
			return td && td.textContent !== '';
		}, cell, { timeout: 10000 });
		const b0 = Number(await page.textContent(cell));
		await page.waitForTimeout(1500);
		const b1 = Number(await page.textContent(cell));
		check(b1 > b0, `link ${link} byte counter updates while traffic flows (${b0} -> ${b1})`);
		const colour = await page.evaluate((id) =>
			window.sluice.cy.getElementById(id).data('color'), linkId);
		check(colour.startsWith('hsl('), `link ${link} coloured by utilisation (${colour})`);
		if (wantRate) {
			const [ra, rb, rdir, rtext] = wantRate.split('|');
			const sel = `tr[data-link="${topo}|${ra}|${rb}"][data-dir="${rdir}"] td.rate`;
			await page.waitForFunction(([s, t]) => {
				const td = document.querySelector(s);
				return td && td.textContent === t;
			}, [sel, rtext], { timeout: 5000 }).catch(() => {});
			const shown = await page.textContent(sel);
			check(shown === rtext, `link ${ra}->${rb} shows rate ${shown} (expected ${rtext})`);
		}
		// With an API token (WEBUI_API_TOKEN): the colour follows the
		// utilisation of WEBUI_COLOUR_LINK (TOPOLOGY|A|B, default
		// demo|h1|r1), whose up direction carries 10 Mbit/s: the hue goes
		// from green (120) to red (0) as throughput over the rate goes
		// from 0 to 1, and the link is grey when unshaped.
		if (process.env.WEBUI_API_TOKEN) {
			const cid = process.env.WEBUI_COLOUR_LINK || 'demo|h1|r1';
			const [ct, ca, cb] = cid.split('|');
			const hueAt = async (rate, want) => {
				const r = await fetch(`${url}/api/policy`, {
					method: 'PUT',
					headers: { Authorization: `Bearer ${process.env.WEBUI_API_TOKEN}` },
					body: JSON.stringify({ topology: ct, a: ca, b: cb, dir: 'both',
						policy: rate ? { rate } : null }),
				});
				check(r.ok, `PUT /api/policy ${ca}-${cb} rate ${rate} (${r.status})`);
				await page.waitForFunction(([id, w]) => {
					const c = window.sluice.cy.getElementById(id).data('color');
					const m = /^hsl\((\d+),/.exec(c || '');
					return w === null ? c === '#9aa3b2' : m && Math.abs(Number(m[1]) - w) <= 12;
				}, [cid, want], { timeout: 8000 }).catch(() => {});
				return page.evaluate((id) => window.sluice.cy.getElementById(id).data('color'), cid);
			};
			const hue = (c) => Number((/^hsl\((\d+),/.exec(c) || [])[1]);
			const cool = await hueAt('100mbit', 108);
			const hot = await hueAt('12mbit', 20);
			check(Math.abs(hue(cool) - 108) <= 12, `at 10% utilisation ${ca}-${cb} is green: ${cool} (hue ~108)`);
			check(Math.abs(hue(hot) - 20) <= 12, `at 83% utilisation ${ca}-${cb} is red: ${hot} (hue ~20)`);
			check(hue(hot) < hue(cool), `the colour moves toward red as utilisation grows (${cool} -> ${hot})`);
			const grey = await hueAt(null, null);
			check(grey === '#9aa3b2', `unshaped (no rate), ${ca}-${cb} is grey: ${grey}`);
			await hueAt('20mbit', 60);
		}
		const points = await page.evaluate(() => {
			const s = window.sluice.series.get(window.sluice.selected);
			return s ? s.t.length : 0;
		});
		check(points >= 2, `time series of the selected link has ${points} points`);
		check(await page.$('#series .uplot') !== null, 'time-series plot drawn');
		check(errors.length === 0, `no JavaScript errors (${errors.join('; ')})`);
	} catch (e) {
		console.log('FAIL: ' + e.message);
		code = 1;
	} finally {
		await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
		await browser.close();
	}
	process.exit(code);
})();
