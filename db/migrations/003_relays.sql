-- SPDX-License-Identifier: GPL-2.0-or-later
-- TCP relays on nodes (docs/relay.md) as rows: a relay listens on
-- node:port and forwards to to_node:to_port through the nodes of via (in
-- order), or serves SOCKS5 there. Like policies and flows, an INSERT,
-- UPDATE or DELETE NOTIFYs "sluice_changes" {"table": "relays", "op",
-- "id"}; the controller pushes relay_add / relay_del to the host that
-- carries the node. enabled = false takes a relay down and keeps the row.

CREATE TABLE relays (
	id          serial PRIMARY KEY,
	topology_id integer NOT NULL REFERENCES topologies (id) ON DELETE CASCADE,
	node        text NOT NULL,           -- where it listens (first hop)
	port        integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
	to_node     text,                    -- the destination (NULL: SOCKS5)
	to_port     integer CHECK (to_port BETWEEN 1 AND 65535),
	via         text[] NOT NULL DEFAULT '{}', -- relays in between, in order
	socks5      boolean NOT NULL DEFAULT false,
	mode        text NOT NULL DEFAULT 'splice' CHECK (mode IN ('splice', 'sockmap')),
	enabled     boolean NOT NULL DEFAULT true,
	version     bigint NOT NULL DEFAULT 1,
	updated_at  timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT relays_target CHECK (socks5 = (to_node IS NULL)
		AND (to_node IS NULL) = (to_port IS NULL)),
	CONSTRAINT relays_socks5_alone CHECK (NOT socks5 OR cardinality(via) = 0),
	UNIQUE (topology_id, node, port)
);

CREATE TRIGGER relays_version BEFORE UPDATE ON relays
	FOR EACH ROW EXECUTE FUNCTION sluice_bump_version();
CREATE TRIGGER relays_notify AFTER INSERT OR UPDATE OR DELETE ON relays
	FOR EACH ROW EXECUTE FUNCTION sluice_notify_change();
