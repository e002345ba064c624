-- SPDX-License-Identifier: GPL-2.0-or-later
-- Tombstones of deleted flows. A DELETE of a flow row NOTIFYs the
-- controller, but a notification sent while nobody listens (the
-- controller's listener reconnecting, the controller restarting) is gone,
-- and a host that was disconnected never saw the flow_del. The controller
-- resends what changed in such a window: changed rows by their updated_at,
-- and deletions from this table (docs/controller.md, "Restarts").
-- No foreign key: a topology being deleted cascades to its flows, whose
-- tombstones must not block it. Kept for 7 days.

CREATE TABLE flow_deletions (
	flow_id     integer PRIMARY KEY,
	topology_id integer NOT NULL,
	deleted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flow_deletions_at ON flow_deletions (deleted_at);

CREATE FUNCTION sluice_flow_deleted() RETURNS trigger AS $$
BEGIN
	INSERT INTO flow_deletions (flow_id, topology_id)
		VALUES (OLD.id, OLD.topology_id)
		ON CONFLICT (flow_id) DO UPDATE SET deleted_at = now();
	DELETE FROM flow_deletions WHERE deleted_at < now() - interval '7 days';
	RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER flows_deleted AFTER DELETE ON flows
	FOR EACH ROW EXECUTE FUNCTION sluice_flow_deleted();
