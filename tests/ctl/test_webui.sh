#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The controller's web UI in headless Chromium: a real controller with a
# real PostgreSQL, a simulated host reporting traffic, the page driven by
# playwright-core (web/node_modules) on Debian's chromium. The screenshot
# stays in build/test-artifacts/webui.png.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/ctl_lib.sh"
cd "$TOP" || exit 1

skip_all() { echo "ok 1 - web UI # SKIP $1"; echo "1..1"; exit 0; }
[ -x "$CONTROLLER" ] || skip_all "build/sluice-controller is not built"
[ -f "$B/web/index.html" ] || skip_all "the web UI is not built (make build/web/main.js)"
[ -x /usr/bin/chromium ] || skip_all "chromium is not installed"
[ -d web/node_modules/playwright-core ] || skip_all "playwright-core is not installed (npm ci in web/)"
command -v node >/dev/null || skip_all "node is not installed"

CTL_WEB=$B/web
ctl_setup >"$CTL_DIR/setup.log" 2>&1 || { sed 's/^/# /' "$CTL_DIR/setup.log";
	echo "not ok 1 - setup"; echo "1..1"; ctl_cleanup; exit 1; }
trap ctl_cleanup EXIT
ctl_start --metrics-interval 250 || { echo "not ok 1 - controller start"; echo "1..1"; exit 1; }
sim_start "$CTL_DIR/sim.out" --metrics-interval 250 --rate 1250000
wait_for 5 grep -q "connected to" "$CTL_DIR/sim.out.log"

t_files() {
	local c
	c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CTL_PORT/")
	[ "$c" = 200 ] || { echo "index: $c"; return 1; }
	curl -s "http://127.0.0.1:$CTL_PORT/main.js" | head -c 100 | grep -q . || return 1
	c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CTL_PORT/../etc/passwd")
	[ "$c" != 200 ] || return 1
	c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$CTL_PORT/nope.html")
	[ "$c" = 404 ]
}

t_browser() {
	api POST /api/topologies "{\"topology\": $(cat examples/demo.json), \"host\": \"h1\"}" >/dev/null
	wait_for 5 sh -c "psql -X -t -A -c \"SELECT state FROM topologies WHERE name='demo'\" | grep -qx up" ||
		return 1
	# A rate on h1-r1 (unshaped in the file), so that it has a utilisation.
	api PUT /api/policy '{"topology":"demo","a":"h1","b":"r1","dir":"both","policy":{"rate":"20mbit"}}' |
		grep -q '"ok":true' || return 1
	mkdir -p "$ART"
	rm -f "$ART/webui.png"
	WEBUI_API_TOKEN=$API_TOKEN node tests/ctl/webui.cjs "http://127.0.0.1:$CTL_PORT" \
		"$UI_TOKEN" "$ART/webui.png" "h1,h2,r1" 2 || return 1
	# The screenshot is the artifact: it must be there, and be a PNG.
	[ -s "$ART/webui.png" ] || { echo "no screenshot at $ART/webui.png"; return 1; }
	[ "$(head -c 8 "$ART/webui.png" | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] ||
		{ echo "$ART/webui.png is not a PNG"; return 1; }
	echo "screenshot: $ART/webui.png ($(stat -c %s "$ART/webui.png") bytes)"
}

t_run "web UI files are served (and nothing outside the web root)" t_files
t_run "web UI in headless Chromium: topology, hosts, live counters, plot" t_browser
t_done
