-- SPDX-License-Identifier: GPL-2.0-or-later
-- sluice-controller schema, version 1: the testbed's state.
-- Applied once by the controller inside a transaction (docs/controller.md);
-- a migration file is never edited after release: a change is a new file.

CREATE TABLE hosts (
	id           text PRIMARY KEY,
	token_hash   text NOT NULL,          -- hex SHA-256 of the host's token
	version      text,
	capabilities jsonb NOT NULL DEFAULT '[]',
	capacity     jsonb NOT NULL DEFAULT '{}',
	state        text NOT NULL DEFAULT 'offline'
	             CHECK (state IN ('online', 'offline')),
	boot         bigint,                 -- the agent's boot id (metrics key)
	connected_at timestamptz,
	last_seen    timestamptz,
	created_at   timestamptz NOT NULL DEFAULT now()
);

-- Tokens of API clients (sluicectl, scripts) and of the web UI.
CREATE TABLE api_tokens (
	id         serial PRIMARY KEY,
	name       text NOT NULL UNIQUE,
	role       text NOT NULL CHECK (role IN ('api', 'ui')),
	token_hash text NOT NULL UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE topologies (
	id         serial PRIMARY KEY,
	name       text NOT NULL UNIQUE,
	spec       jsonb NOT NULL,           -- the topology file as given
	state      text NOT NULL DEFAULT 'pending'
	           CHECK (state IN ('pending', 'applying', 'up', 'failed', 'down')),
	error      text,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE nodes (
	id          serial PRIMARY KEY,
	topology_id integer NOT NULL REFERENCES topologies (id) ON DELETE CASCADE,
	name        text NOT NULL,
	kind        text NOT NULL DEFAULT 'host',
	host_id     text REFERENCES hosts (id) ON DELETE SET NULL,
	UNIQUE (topology_id, name)
);

-- A link joins nodes a and b; direction "up" is a -> b, "down" b -> a.
CREATE TABLE links (
	id          serial PRIMARY KEY,
	topology_id integer NOT NULL REFERENCES topologies (id) ON DELETE CASCADE,
	idx         integer NOT NULL,        -- position in the topology file
	a           text NOT NULL,
	b           text NOT NULL,
	state       text NOT NULL DEFAULT 'up' CHECK (state IN ('up', 'down')),
	rate_up     bigint,                  -- bit/s from the file's policy
	rate_down   bigint,                  -- (NULL: unshaped)
	UNIQUE (topology_id, a, b),
	UNIQUE (topology_id, idx)
);

-- The policy of one direction of a link (JSON as in topology files);
-- NULL policy means unshaped. Writing a row changes the live link.
CREATE TABLE policies (
	id         serial PRIMARY KEY,
	link_id    integer NOT NULL REFERENCES links (id) ON DELETE CASCADE,
	dir        text NOT NULL CHECK (dir IN ('up', 'down', 'both')),
	policy     jsonb,
	version    bigint NOT NULL DEFAULT 1,
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (link_id, dir)
);

-- Flows between two nodes with their mode and class (max/normal mode).
CREATE TABLE flows (
	id          serial PRIMARY KEY,
	topology_id integer NOT NULL REFERENCES topologies (id) ON DELETE CASCADE,
	src         text NOT NULL,
	dst         text NOT NULL,
	proto       text NOT NULL DEFAULT 'tcp' CHECK (proto IN ('tcp', 'udp', 'any')),
	sport       integer CHECK (sport BETWEEN 0 AND 65535),
	dport       integer CHECK (dport BETWEEN 0 AND 65535),
	mode        text NOT NULL DEFAULT 'auto' CHECK (mode IN ('auto', 'max', 'normal')),
	class       integer NOT NULL DEFAULT 0,
	enabled     boolean NOT NULL DEFAULT true,
	version     bigint NOT NULL DEFAULT 1,
	updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per metrics report of a host: (host, boot, seq) has no gaps
-- when nothing was lost. raw is the report's links and cells as sent.
CREATE TABLE metrics (
	host_id     text NOT NULL,
	boot        bigint NOT NULL,
	seq         bigint NOT NULL,
	ts          timestamptz NOT NULL,    -- when the host took the sample
	received_at timestamptz NOT NULL DEFAULT now(),
	replayed    boolean NOT NULL DEFAULT false,
	raw         jsonb NOT NULL,
	PRIMARY KEY (host_id, boot, seq)
);

-- The per-link counters of each report, for queries and plots.
-- Counters are cumulative since the link came up.
CREATE TABLE link_metrics (
	host_id    text NOT NULL,
	boot       bigint NOT NULL,
	seq        bigint NOT NULL,
	ts         timestamptz NOT NULL,
	topology   text NOT NULL,
	a          text NOT NULL,
	b          text NOT NULL,
	dir        text NOT NULL,
	packets    bigint NOT NULL,
	bytes      bigint NOT NULL,
	drops      bigint NOT NULL DEFAULT 0,
	qlen       bigint,
	sojourn_us double precision,
	PRIMARY KEY (host_id, boot, seq, topology, a, b, dir)
);
CREATE INDEX link_metrics_link_ts ON link_metrics (topology, a, b, dir, ts);

CREATE TABLE events (
	id       bigserial PRIMARY KEY,
	host_id  text,
	ts       timestamptz NOT NULL DEFAULT now(),
	kind     text NOT NULL,
	topology text,
	a        text,
	b        text,
	message  text,
	data     jsonb
);
CREATE INDEX events_ts ON events (ts);
