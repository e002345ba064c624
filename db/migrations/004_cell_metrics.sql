-- SPDX-License-Identifier: GPL-2.0-or-later
-- Per-cell counters (docs/protocol.md, metrics "cells"): the cells of a
-- normal-mode link direction report their telemetry every interval.
-- cell_metrics keeps every report's rows (like link_metrics), cell_latest
-- each cell's newest row for /metrics and the UI. Both are filled by a
-- trigger from metrics.raw -> 'cells', inside the statement that stores
-- the report, so a report is stored with all its rows or not at all and a
-- replayed duplicate (ON CONFLICT DO NOTHING on metrics) adds nothing.

-- A counter from JSON: a number >= 0 that fits a bigint, else NULL. The
-- host's values are not trusted to be well formed; a bad one must never
-- make a report unstorable (the host would send it again forever).
CREATE FUNCTION sluice_counter(j jsonb) RETURNS bigint AS $$
	SELECT CASE WHEN jsonb_typeof(j) = 'number' AND j::numeric >= 0
		AND j::numeric < 9223372036854775807 THEN trunc(j::numeric)::bigint END
$$ LANGUAGE sql IMMUTABLE;

-- The sum of the numbers of an object (drops by reason), or NULL.
CREATE FUNCTION sluice_counter_sum(j jsonb) RETURNS bigint AS $$
	SELECT CASE WHEN jsonb_typeof(j) = 'object' THEN
		(SELECT coalesce(sum(sluice_counter(v)), 0)::bigint FROM jsonb_each(j) AS e(k, v)) END
$$ LANGUAGE sql IMMUTABLE;

CREATE TABLE cell_metrics (
	host_id    text NOT NULL,
	boot       bigint NOT NULL,
	seq        bigint NOT NULL,
	ts         timestamptz NOT NULL,
	topology   text NOT NULL,
	a          text NOT NULL,
	b          text NOT NULL,
	dir        text NOT NULL,
	cell       text NOT NULL,            -- its name in the policy
	type       text,                     -- rate, delay, loss, codel, ...
	pkts_in    bigint,
	bytes_in   bigint,
	pkts_out   bigint,
	bytes_out  bigint,
	drops      bigint,                   -- all reasons (counters.drops)
	qlen_pkts  bigint,
	qlen_bytes bigint,
	sojourn_us double precision,         -- mean sojourn so far
	counters   jsonb NOT NULL,           -- everything the cell reported
	PRIMARY KEY (host_id, boot, seq, topology, a, b, dir, cell)
);
CREATE INDEX cell_metrics_cell_ts ON cell_metrics (topology, a, b, dir, cell, ts);

CREATE TABLE cell_latest (
	host_id    text NOT NULL,
	topology   text NOT NULL,
	a          text NOT NULL,
	b          text NOT NULL,
	dir        text NOT NULL,
	cell       text NOT NULL,
	boot       bigint NOT NULL,
	seq        bigint NOT NULL,
	ts         timestamptz NOT NULL,
	type       text,
	counters   jsonb NOT NULL,
	PRIMARY KEY (host_id, topology, a, b, dir, cell)
);

CREATE FUNCTION sluice_store_cells() RETURNS trigger AS $$
DECLARE
	-- Only the host's newest report says which cells exist now (a
	-- replayed older one only adds history).
	newest boolean := NOT EXISTS (SELECT 1 FROM metrics m
		WHERE m.host_id = NEW.host_id
		AND (m.boot > NEW.boot OR (m.boot = NEW.boot AND m.seq > NEW.seq)));
BEGIN
	IF newest THEN
		DELETE FROM cell_latest WHERE host_id = NEW.host_id;
	END IF;
	IF jsonb_typeof(NEW.raw -> 'cells') IS DISTINCT FROM 'array' THEN
		RETURN NULL;
	END IF;
	BEGIN
		INSERT INTO cell_metrics (host_id, boot, seq, ts, topology, a, b, dir, cell,
			type, pkts_in, bytes_in, pkts_out, bytes_out, drops, qlen_pkts,
			qlen_bytes, sojourn_us, counters)
		SELECT NEW.host_id, NEW.boot, NEW.seq, NEW.ts, c ->> 'topology', c ->> 'a',
			c ->> 'b', c ->> 'dir', c ->> 'cell', k ->> 'type',
			sluice_counter(k -> 'pkts_in'), sluice_counter(k -> 'bytes_in'),
			sluice_counter(k -> 'pkts_out'), sluice_counter(k -> 'bytes_out'),
			sluice_counter_sum(k -> 'drops'), sluice_counter(k -> 'qlen_pkts'),
			sluice_counter(k -> 'qlen_bytes'),
			sluice_counter(k -> 'sojourn_ns' -> 'avg') / 1000.0, k
		FROM jsonb_array_elements(NEW.raw -> 'cells') AS x(c),
			LATERAL (SELECT CASE WHEN jsonb_typeof(c -> 'counters') = 'object'
				THEN c -> 'counters' ELSE '{}'::jsonb END) AS y(k)
		WHERE jsonb_typeof(c) = 'object' AND c ->> 'topology' IS NOT NULL
			AND c ->> 'a' IS NOT NULL AND c ->> 'b' IS NOT NULL
			AND c ->> 'dir' IS NOT NULL AND c ->> 'cell' IS NOT NULL
		ON CONFLICT DO NOTHING;
		IF NOT newest THEN
			RETURN NULL;
		END IF;
		INSERT INTO cell_latest (host_id, topology, a, b, dir, cell, boot, seq, ts,
			type, counters)
		SELECT host_id, topology, a, b, dir, cell, boot, seq, ts, type, counters
		FROM cell_metrics WHERE host_id = NEW.host_id AND boot = NEW.boot
			AND seq = NEW.seq
		ON CONFLICT DO NOTHING;
	EXCEPTION WHEN OTHERS THEN
		-- The report itself is stored (raw keeps the cells); only the
		-- per-cell rows are missing.
		RAISE WARNING 'metrics of host % seq %: cell rows not stored: %',
			NEW.host_id, NEW.seq, SQLERRM;
	END;
	RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER metrics_cells AFTER INSERT ON metrics
	FOR EACH ROW EXECUTE FUNCTION sluice_store_cells();
