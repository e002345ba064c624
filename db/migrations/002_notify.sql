-- SPDX-License-Identifier: GPL-2.0-or-later
-- Triggers that make a written row change the live network: an INSERT or
-- UPDATE of a policy or a flow (and a DELETE of a flow) NOTIFYs channel
-- "sluice_changes" with {"table", "op", "id"}; the controller LISTENs,
-- reads the row and pushes it to the host(s) that carry the link.
-- NOTIFY is delivered at COMMIT, so a script's transaction is one change.

CREATE FUNCTION sluice_bump_version() RETURNS trigger AS $$
BEGIN
	IF NEW IS DISTINCT FROM OLD THEN
		NEW.version := OLD.version + 1;
		NEW.updated_at := now();
	END IF;
	RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION sluice_notify_change() RETURNS trigger AS $$
DECLARE
	row_id integer;
BEGIN
	IF TG_OP = 'DELETE' THEN
		row_id := OLD.id;
	ELSE
		row_id := NEW.id;
	END IF;
	PERFORM pg_notify('sluice_changes', json_build_object(
		'table', TG_TABLE_NAME, 'op', TG_OP, 'id', row_id)::text);
	RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER policies_version BEFORE UPDATE ON policies
	FOR EACH ROW EXECUTE FUNCTION sluice_bump_version();
CREATE TRIGGER policies_notify AFTER INSERT OR UPDATE ON policies
	FOR EACH ROW EXECUTE FUNCTION sluice_notify_change();
CREATE TRIGGER flows_version BEFORE UPDATE ON flows
	FOR EACH ROW EXECUTE FUNCTION sluice_bump_version();
CREATE TRIGGER flows_notify AFTER INSERT OR UPDATE OR DELETE ON flows
	FOR EACH ROW EXECUTE FUNCTION sluice_notify_change();

-- Links by name, for scripts: SELECT * FROM links_v WHERE topology = 'x'.
CREATE VIEW links_v AS
	SELECT l.id, t.name AS topology, l.a, l.b, l.idx, l.state
	FROM links l JOIN topologies t ON t.id = l.topology_id;

-- Sets the policy of one direction of the link between a and b (either
-- order: the direction is taken from a to b). Returns the policy row id.
CREATE FUNCTION sluice_set_policy(p_topology text, p_a text, p_b text,
				  p_dir text, p_policy jsonb) RETURNS integer AS $$
DECLARE
	lid integer;
	d text := p_dir;
	pid integer;
BEGIN
	SELECT id INTO lid FROM links_v
		WHERE topology = p_topology AND a = p_a AND b = p_b;
	IF lid IS NULL THEN
		SELECT id INTO lid FROM links_v
			WHERE topology = p_topology AND a = p_b AND b = p_a;
		IF lid IS NULL THEN
			RAISE EXCEPTION 'no link between % and % in topology %',
				p_a, p_b, p_topology;
		END IF;
		d := CASE p_dir WHEN 'up' THEN 'down' WHEN 'down' THEN 'up' ELSE p_dir END;
	END IF;
	INSERT INTO policies (link_id, dir, policy) VALUES (lid, d, p_policy)
		ON CONFLICT (link_id, dir) DO UPDATE SET policy = EXCLUDED.policy
		RETURNING id INTO pid;
	RETURN pid;
END
$$ LANGUAGE plpgsql;
