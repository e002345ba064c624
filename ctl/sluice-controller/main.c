// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sluice-controller - the testbed's central controller: hosts connect to
 * it over a WebSocket, it keeps the testbed's state in PostgreSQL, pushes
 * rows that scripts write to the hosts, stores their metrics, and serves
 * the REST API, /metrics and the web UI.
 *
 * Subcommands (default serve):
 *   serve                 run the server
 *   migrate               create or update the schema and exit
 *   add-host NAME         register a host; prints its token
 *   add-token NAME ROLE   an API ("api") or web UI ("ui") token; prints it
 *   hostsim               a simulated host (tests, load; hostsim.c)
 *   call URL METHOD PATH  one REST request (call.c)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/log.h>

#include "controller.h"

struct ctl *g_ctl;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: sluice-controller [OPTION]... [serve]\n"
"       sluice-controller [OPTION]... migrate\n"
"       sluice-controller [OPTION]... add-host NAME [--token TOKEN]\n"
"       sluice-controller [OPTION]... add-token NAME api|ui [--token TOKEN]\n"
"       sluice-controller hostsim --url URL --host NAME --token TOKEN [...]\n"
"       sluice-controller call [--token T] URL METHOD PATH [JSON]\n"
"The sluice controller: hosts (sluiced) connect to it over a WebSocket, it\n"
"keeps the testbed in PostgreSQL and serves the REST API, /metrics and the\n"
"web UI.\n"
"\n"
"  -c, --config FILE        configuration (default " CONTROLLER_CONFIG_DEFAULT ",\n"
"                           read if present; KEY = VALUE lines, keys as the\n"
"                           long options below without the dashes)\n"
"  -l, --listen ADDR        address to listen on (default all)\n"
"  -p, --port N             port (default 7700)\n"
"      --tls-cert FILE      TLS certificate (PEM): serve https and wss\n"
"      --tls-key FILE       its private key\n"
"  -d, --database CONNINFO  libpq connection string (default \"dbname=sluice\")\n"
"      --migrations DIR     schema migrations (default " CONTROLLER_MIGRATIONS_DEFAULT ")\n"
"      --web-root DIR       web UI files (default " CONTROLLER_WEB_DEFAULT ")\n"
"      --metrics-interval MS  hosts report every MS milliseconds (default 1000)\n"
"      --heartbeat-interval MS  hosts send a heartbeat every MS (default 5000)\n"
"      --host-timeout MS    drop a host silent this long (default 15000)\n"
"      --rate-limit N       messages per second per connection (default 2000)\n"
"      --metrics-public yes|no  /metrics without a token (default no)\n"
"      --log-level LEVEL    error, warn, info (default) or debug\n"
"      --log-file FILE      log there instead of stderr\n"
"      --token TOKEN        add-host/add-token: use TOKEN instead of a random one\n"
"  -h, --help               this help\n"
"  -V, --version            version\n"
"\n"
"See docs/controller.md and docs/protocol.md.\n");
}

static int set_int(int *out, const char *v, const char *key, const char *where,
		   int min, int max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end || errno || n < min || n > max) {
		fprintf(stderr, "sluice-controller: %s: %s \"%s\"; expected an integer from %d to %d\n",
			where, key, v, min, max);
		return -EINVAL;
	}
	*out = (int)n;
	return 0;
}

static int set_str(char *out, size_t size, const char *v, const char *key,
		   const char *where)
{
	if (strlen(v) >= size) {
		fprintf(stderr, "sluice-controller: %s: %s: a value of %zu bytes; expected at most %zu\n",
			where, key, strlen(v), size - 1);
		return -EINVAL;
	}
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int set_opt(struct ctl_conf *o, const char *key, const char *v,
		   const char *where)
{
#define STR(k, field) if (!strcmp(key, k)) return set_str(o->field, sizeof(o->field), v, key, where);
	STR("listen", listen)
	STR("tls-cert", cert)
	STR("tls-key", key)
	STR("database", db)
	STR("migrations", migrations)
	STR("web-root", web_root)
	STR("log-file", log_file)
#undef STR
	if (!strcmp(key, "port"))
		return set_int(&o->port, v, key, where, 1, 65535);
	if (!strcmp(key, "metrics-interval"))
		return set_int(&o->metrics_interval_ms, v, key, where, 10, 3600000);
	if (!strcmp(key, "heartbeat-interval"))
		return set_int(&o->heartbeat_ms, v, key, where, 100, 3600000);
	if (!strcmp(key, "host-timeout"))
		return set_int(&o->host_timeout_ms, v, key, where, 0, 86400000);
	if (!strcmp(key, "rate-limit"))
		return set_int(&o->rate_limit, v, key, where, 0, 100000000);
	if (!strcmp(key, "metrics-public")) {
		if (strcmp(v, "yes") && strcmp(v, "no")) {
			fprintf(stderr, "sluice-controller: %s: metrics-public \"%s\"; expected yes or no\n",
				where, v);
			return -EINVAL;
		}
		o->metrics_public = !strcmp(v, "yes");
		return 0;
	}
	if (!strcmp(key, "log-level")) {
		o->log_level = sl_log_level_parse(v);
		if (o->log_level < 0) {
			fprintf(stderr, "sluice-controller: %s: log-level \"%s\"; expected "
				"error, warn, info or debug\n", where, v);
			return -EINVAL;
		}
		return 0;
	}
	fprintf(stderr, "sluice-controller: %s: unknown key \"%s\"; see sluice-controller --help\n",
		where, key);
	return -EINVAL;
}

/* KEY = VALUE lines; "#" starts a comment line; blanks around the key and
 * the value are not part of them. Every error names the file, the line and
 * what was expected. */
static int read_config(struct ctl_conf *o, const char *path, bool must)
{
	char line[2048], where[400];
	FILE *f = fopen(path, "re");
	int lineno = 0, ret = 0;

	if (!f) {
		if (!must && errno == ENOENT)
			return 0;
		fprintf(stderr, "sluice-controller: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		char *k = line, *eq, *v, *end;
		size_t n = strlen(line);

		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (n == sizeof(line) - 1 && line[n - 1] != '\n' && !feof(f)) {
			fprintf(stderr, "sluice-controller: %s: line longer than %zu bytes\n",
				where, sizeof(line) - 2);
			ret = -EINVAL;
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		while (*k == ' ' || *k == '\t')
			k++;
		if (*k == '#' || !*k)
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			fprintf(stderr, "sluice-controller: %s: \"%.60s\"; expected KEY = VALUE\n",
				where, k);
			ret = -EINVAL;
			break;
		}
		for (end = eq; end > k && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		if (!*k) {
			fprintf(stderr, "sluice-controller: %s: no key before \"=\"; expected KEY = VALUE\n",
				where);
			ret = -EINVAL;
			break;
		}
		v = eq + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		*end = '\0';
		if (set_opt(o, k, v, where)) {
			ret = -EINVAL;
			break;
		}
	}
	fclose(f);
	return ret;
}

static int add_host(struct ctl *c, const char *name, const char *token)
{
	char tok[48], hash[65];
	const char *p[2] = { name, hash };
	PGresult *r;

	if (!token) {
		if (token_new(tok))
			return 1;
		token = tok;
	}
	token_hash(token, hash);
	r = db_query(c->db, "INSERT INTO hosts (id, token_hash) VALUES ($1, $2)"
			    " ON CONFLICT (id) DO UPDATE SET token_hash = EXCLUDED.token_hash",
		     2, p);
	if (!r) {
		fprintf(stderr, "sluice-controller: cannot add host %s\n", name);
		return 1;
	}
	PQclear(r);
	printf("%s\n", token);
	return 0;
}

static int add_token(struct ctl *c, const char *name, const char *role,
		     const char *token)
{
	char tok[48], hash[65];
	const char *p[3] = { name, role, hash };
	PGresult *r;

	if (strcmp(role, "api") && strcmp(role, "ui")) {
		fprintf(stderr, "sluice-controller: add-token: role \"%s\"; expected api or ui\n", role);
		return 2;
	}
	if (!token) {
		if (token_new(tok))
			return 1;
		token = tok;
	}
	token_hash(token, hash);
	r = db_query(c->db, "INSERT INTO api_tokens (name, role, token_hash) VALUES ($1, $2, $3)"
			    " ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role,"
			    " token_hash = EXCLUDED.token_hash", 3, p);
	if (!r) {
		fprintf(stderr, "sluice-controller: cannot add token %s\n", name);
		return 1;
	}
	PQclear(r);
	printf("%s\n", token);
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_CERT = 256, O_KEY, O_MIGR, O_WEB, O_MINT, O_HB, O_HT, O_RATE,
	       O_MPUB, O_LOGL, O_LOGF, O_TOKEN };
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "tls-cert", required_argument, NULL, O_CERT },
		{ "tls-key", required_argument, NULL, O_KEY },
		{ "database", required_argument, NULL, 'd' },
		{ "migrations", required_argument, NULL, O_MIGR },
		{ "web-root", required_argument, NULL, O_WEB },
		{ "metrics-interval", required_argument, NULL, O_MINT },
		{ "heartbeat-interval", required_argument, NULL, O_HB },
		{ "host-timeout", required_argument, NULL, O_HT },
		{ "rate-limit", required_argument, NULL, O_RATE },
		{ "metrics-public", required_argument, NULL, O_MPUB },
		{ "log-level", required_argument, NULL, O_LOGL },
		{ "log-file", required_argument, NULL, O_LOGF },
		{ "token", required_argument, NULL, O_TOKEN },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	static struct ctl ctl;
	struct ctl_conf *o = &ctl.conf;
	const char *config = NULL, *token = NULL, *cmd;
	struct sl_err err = { "" };
	bool creds = false;
	int ch, i, ret;

	if (argc > 1 && !strcmp(argv[1], "hostsim"))
		return hostsim_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "call"))
		return call_main(argc - 1, argv + 1);
	*o = (struct ctl_conf){
		.port = CONTROLLER_PORT_DEFAULT,
		.db = "dbname=sluice",
		.migrations = CONTROLLER_MIGRATIONS_DEFAULT,
		.web_root = CONTROLLER_WEB_DEFAULT,
		.metrics_interval_ms = 1000,
		.heartbeat_ms = 5000,
		.host_timeout_ms = 15000,
		.rate_limit = 2000,
		.log_level = SL_LOG_INFO,
	};
	for (i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) && i + 1 < argc)
			config = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			config = argv[i] + 9;
	}
	if (read_config(o, config ? config : CONTROLLER_CONFIG_DEFAULT, config != NULL))
		return 2;
	while ((ch = getopt_long(argc, argv, "c:l:p:d:hV", lo, NULL)) != -1) {
		const char *key = NULL;
		char flag[40];

		switch (ch) {
		case 'c': continue;
		case 'l': key = "listen"; break;
		case 'p': key = "port"; break;
		case 'd': key = "database"; break;
		case O_CERT: key = "tls-cert"; break;
		case O_KEY: key = "tls-key"; break;
		case O_MIGR: key = "migrations"; break;
		case O_WEB: key = "web-root"; break;
		case O_MINT: key = "metrics-interval"; break;
		case O_HB: key = "heartbeat-interval"; break;
		case O_HT: key = "host-timeout"; break;
		case O_RATE: key = "rate-limit"; break;
		case O_MPUB: key = "metrics-public"; break;
		case O_LOGL: key = "log-level"; break;
		case O_LOGF: key = "log-file"; break;
		case O_TOKEN: token = optarg; continue;
		case 'h': usage(stdout); return 0;
		case 'V': printf("sluice-controller %s\n", CONTROLLER_VERSION); return 0;
		default:
			fprintf(stderr, "Try 'sluice-controller --help'.\n");
			return 2;
		}
		snprintf(flag, sizeof(flag), "--%s", key);
		if (set_opt(o, key, optarg, flag))
			return 2;
	}
	/* Under systemd with LoadCredential=tls-cert:... and tls-key:...
	 * (a key only root may read, handed to the dynamic user): use them
	 * unless the configuration names files itself. */
	if (!*o->cert && !*o->key && getenv("CREDENTIALS_DIRECTORY")) {
		const char *dir = getenv("CREDENTIALS_DIRECTORY");
		char cert[sizeof(o->cert)], key[sizeof(o->key)];

		if (snprintf(cert, sizeof(cert), "%s/tls-cert", dir) < (int)sizeof(cert) &&
		    snprintf(key, sizeof(key), "%s/tls-key", dir) < (int)sizeof(key) &&
		    !access(cert, R_OK) && !access(key, R_OK)) {
			memcpy(o->cert, cert, sizeof(cert));
			memcpy(o->key, key, sizeof(key));
			creds = true;
		}
	}
	if (!*o->cert != !*o->key) {
		fprintf(stderr, "sluice-controller: TLS needs both tls-cert and tls-key (%s is missing)\n",
			*o->cert ? "tls-key" : "tls-cert");
		return 2;
	}
	cmd = optind < argc ? argv[optind] : "serve";
	if (*o->log_file && !freopen(o->log_file, "a", stderr)) {
		fprintf(stdout, "sluice-controller: %s: %s\n", o->log_file, strerror(errno));
		return 1;
	}
	sl_log_init("sluice-controller", (enum sl_log_level)o->log_level);
	if (creds)
		pr_info("TLS: certificate and key from systemd credentials (%s)",
			getenv("CREDENTIALS_DIRECTORY"));
	g_ctl = &ctl;
	ctl.next_cmd_id = (int64_t)(now_unix() * 1000);
	ctl.db = db_new(o->db);
	if (!ctl.db)
		return 1;
	/* The schema first, whatever the subcommand: it may need the tables. */
	if (!strcmp(cmd, "serve")) {
		/* The database may come up after the controller (boot order):
		 * wait for it rather than fail. */
		for (i = 0; !db_wait(ctl.db, 1000); i++)
			if (i == 0)
				pr_warn("database not reachable yet; waiting for it");
	}
	ret = db_migrate(ctl.db, o->migrations, &err);
	if (ret) {
		fprintf(stderr, "sluice-controller: %s\n", err.msg);
		db_free(ctl.db);
		return 1;
	}
	if (!strcmp(cmd, "migrate")) {
		ret = 0;
	} else if (!strcmp(cmd, "add-host") && optind + 2 == argc) {
		ret = add_host(&ctl, argv[optind + 1], token);
	} else if (!strcmp(cmd, "add-token") && optind + 3 == argc) {
		ret = add_token(&ctl, argv[optind + 1], argv[optind + 2], token);
	} else if (!strcmp(cmd, "serve") && optind + 1 >= argc) {
		/* No session survives a restart: hosts reconnect. */
		PQclear(db_query(ctl.db, "UPDATE hosts SET state = 'offline'", 0, NULL));
		ret = server_run(&ctl) ? 1 : 0;
	} else {
		fprintf(stderr, "sluice-controller: unexpected arguments for \"%s\"\n"
			"Try 'sluice-controller --help'.\n", cmd);
		ret = 2;
	}
	while (ctl.pending) {
		struct pending *n = ctl.pending->next;

		free(ctl.pending);
		ctl.pending = n;
	}
	free(ctl.links);
	db_free(ctl.db);
	return ret;
}
