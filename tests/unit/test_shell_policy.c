// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_shell_policy.c - `sluicectl shell`'s options turned into the link's
 * two direction policies (ctl/sluicectl/shell_policy.c, linked into this
 * test): shared and per-direction values (a direction's own rate or trace
 * replaces the shared capacity), mm-link's queue types and queue
 * arguments as queue cell objects, --aqm, --trace-once, --seed, --policy,
 * the summaries the prompt shows, and each usage error with its message.
 * shell_policy_check() is run on every policy built, as cmd_shell.c does.
 *
 * The two sluicectl helpers shell_policy.c calls are stubs here: the
 * command table lookup and the usage error, which keeps its message.
 */
#include <limits.h>
#include <stdarg.h>
#include <unistd.h>

#include "test_cell_harness.h"

#include "shell.h"
#include "sluicectl.h"

/* ---- stubs of sluicectl's main.c and output.c ---- */

static const struct ctl_cmd shell_cmd = { .name = "shell" };
static char usage_msg[1024];
static int n_usage;

const struct ctl_cmd *ctl_find_cmd(const char *name)
{
	assert_string_equal(name, "shell");
	return &shell_cmd;
}

int ctl_usage_error(const struct ctl_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	assert_ptr_equal(cmd, &shell_cmd);
	va_start(ap, fmt);
	vsnprintf(usage_msg, sizeof(usage_msg), fmt, ap);
	va_end(ap);
	n_usage++;
	return CTL_EXIT_USAGE;
}

/* ---- helpers ---- */

enum { BOTH, UP, DOWN };
static const char *const prefix[] = { "", "up-", "down-" };
static char opt_names[3][SHELL_N_KEYS][32];

/* As cmd_shell.c records an option: --<prefix><key> VALUE. */
static void opt(struct shell_policy *s, int dir, enum shell_key k, const char *v)
{
	snprintf(opt_names[dir][k], sizeof(opt_names[dir][k]), "%s%s",
		 prefix[dir], shell_key_name[k]);
	s->val[dir][k].v = v;
	s->val[dir][k].opt = opt_names[dir][k];
}

/* Builds and checks both directions; returns the first failing status. */
static int build(struct shell_policy *s)
{
	int d, ret;

	usage_msg[0] = '\0';
	for (d = 0; d < 2; d++) {
		ret = shell_policy_build(s, d);
		ret = ret ?: shell_policy_check(s, d);
		if (ret) {
			print_message("# usage error: %s\n", usage_msg);
			return ret;
		}
	}
	return 0;
}

/* Direction d's policy equals the JSON text want (NULL: a plain wire). */
static void assert_policy(const struct shell_policy *s, int d, const char *want)
{
	struct json_object *got, *exp;

	if (!want) {
		assert_null(s->policy[d]);
		return;
	}
	assert_non_null(s->policy[d]);
	got = json_tokener_parse(s->policy[d]);
	exp = json_tokener_parse(want);
	assert_non_null(got);
	assert_non_null(exp);
	if (!json_object_equal(got, exp))
		fail_msg("direction %s: policy %s, expected %s", d ? "down" : "up",
			 s->policy[d], want);
	json_object_put(got);
	json_object_put(exp);
}

/* The build must fail with a usage error whose message is want. */
static void assert_usage(struct shell_policy *s, const char *want)
{
	int before = n_usage;

	assert_int_equal(build(s), CTL_EXIT_USAGE);
	assert_int_equal(n_usage, before + 1);
	assert_string_equal(usage_msg, want);
	shell_policy_free(s);
}

static char tmpdir[] = "/tmp/sluice-shellpol-XXXXXX";
static char trace_a[PATH_MAX], trace_b[PATH_MAX];

static int setup(void **state)
{
	FILE *f;

	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(trace_a, sizeof(trace_a), "%s/a.up", tmpdir);
	snprintf(trace_b, sizeof(trace_b), "%s/b.down", tmpdir);
	f = fopen(trace_a, "w");
	if (!f)
		return -1;
	fputs("1\n2\n3\n", f);
	fclose(f);
	f = fopen(trace_b, "w");
	if (!f)
		return -1;
	fputs("5\n10\n", f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	unlink(trace_a);
	unlink(trace_b);
	return rmdir(tmpdir);
}

/* ---- tests ---- */

static void test_plain(void **state)
{
	struct shell_policy s = { 0 };

	assert_int_equal(build(&s), 0);
	assert_policy(&s, 0, NULL);
	assert_policy(&s, 1, NULL);
	assert_string_equal(s.summary[0], "plain");
	assert_string_equal(s.summary[1], "plain");
	shell_policy_free(&s);
}

static void test_shared_values(void **state)
{
	struct shell_policy s = { 0 };

	opt(&s, BOTH, SHELL_RATE, "12mbit");
	opt(&s, BOTH, SHELL_DELAY, "20ms");
	opt(&s, BOTH, SHELL_JITTER, "2ms");
	opt(&s, BOTH, SHELL_LOSS, "0.5%");
	opt(&s, BOTH, SHELL_SEED, "7");
	assert_int_equal(build(&s), 0);
	assert_policy(&s, 0, "{\"rate\": \"12mbit\", \"delay\": \"20ms\", \"jitter\": \"2ms\", \"loss\": \"0.5%\", \"seed\": 7}");
	assert_policy(&s, 1, "{\"rate\": \"12mbit\", \"delay\": \"20ms\", \"jitter\": \"2ms\", \"loss\": \"0.5%\", \"seed\": 7}");
	assert_string_equal(s.summary[0], "12mbit 20ms +-2ms loss 0.5%");
	assert_string_equal(s.summary[1], s.summary[0]);
	shell_policy_free(&s);
}

/* --up-X and --down-X override the shared --X in their direction only. */
static void test_per_direction(void **state)
{
	struct shell_policy s = { 0 };

	opt(&s, BOTH, SHELL_DELAY, "10ms");
	opt(&s, BOTH, SHELL_RATE, "8mbit");
	opt(&s, UP, SHELL_RATE, "1mbit");
	opt(&s, DOWN, SHELL_DELAY, "30ms");
	opt(&s, DOWN, SHELL_LOSS, "1%");
	assert_int_equal(build(&s), 0);
	assert_policy(&s, 0, "{\"rate\": \"1mbit\", \"delay\": \"10ms\"}");
	assert_policy(&s, 1, "{\"rate\": \"8mbit\", \"delay\": \"30ms\", \"loss\": \"1%\"}");
	assert_string_equal(s.summary[0], "1mbit 10ms");
	assert_string_equal(s.summary[1], "8mbit 30ms loss 1%");
	shell_policy_free(&s);

	/* one direction shaped, the other a plain wire */
	memset(&s, 0, sizeof(s));
	opt(&s, DOWN, SHELL_DELAY, "5ms");
	assert_int_equal(build(&s), 0);
	assert_policy(&s, 0, NULL);
	assert_policy(&s, 1, "{\"delay\": \"5ms\"}");
	assert_string_equal(s.summary[0], "plain");
	assert_string_equal(s.summary[1], "5ms");
	shell_policy_free(&s);
}

/* --queue: a size, "unlimited", or one of mm-link's queue types. */
static void test_queue_types(void **state)
{
	static const struct {
		const char *queue, *args, *policy, *summary;
	} cases[] = {
		{ "100pkt", NULL, "{\"rate\": \"1mbit\", \"queue\": \"100pkt\"}", "1mbit queue 100pkt" },
		{ "64kb", NULL, "{\"rate\": \"1mbit\", \"queue\": \"64kb\"}", "1mbit queue 64kb" },
		/* the kernel's shaper has no unlimited queue: a queue cell */
		{ "unlimited", NULL,
		  "{\"rate\": \"1mbit\", \"queue\": {\"type\": \"queue\", \"drop\": \"tail\", \"limit\": \"unlimited\"}}",
		  "1mbit queue unlimited" },
		{ "droptail", "packets=50",
		  "{\"rate\": \"1mbit\", \"queue\": {\"type\": \"queue\", \"drop\": \"tail\", \"limit\": \"50pkt\"}}",
		  "1mbit queue droptail" },
		{ "drophead", "bytes=30000",
		  "{\"rate\": \"1mbit\", \"queue\": {\"type\": \"queue\", \"drop\": \"head\", \"limit\": \"30000b\"}}",
		  "1mbit queue drophead" },
		{ "drophead", NULL,
		  "{\"rate\": \"1mbit\", \"queue\": {\"type\": \"queue\", \"drop\": \"head\"}}",
		  "1mbit queue drophead" },
		{ "infinite", NULL,
		  "{\"rate\": \"1mbit\", \"queue\": {\"type\": \"queue\", \"limit\": \"unlimited\"}}",
		  "1mbit queue infinite" },
		{ "codel", "target=5,interval=100",
		  "{\"rate\": \"1mbit\", \"queue\": {\"type\": \"codel\", \"target\": \"5ms\", \"interval\": \"100ms\"}}",
		  "1mbit queue codel" },
		{ "pie", "packets=200, qdelay_ref=15,tupdate=30,alpha=0.125,beta=1.25",
		  "{\"rate\": \"1mbit\", \"queue\": {\"type\": \"pie\", \"limit\": \"200pkt\", \"target\": \"15ms\", \"tupdate\": \"30ms\", \"alpha\": 0.125, \"beta\": 1.25}}",
		  "1mbit queue pie" },
		{ "red", "ecn=true",
		  "{\"rate\": \"1mbit\", \"queue\": {\"type\": \"red\", \"ecn\": true}}",
		  "1mbit queue red" },
		/* queue arguments alone: a drop-tail queue with them */
		{ NULL, "packets=10",
		  "{\"rate\": \"1mbit\", \"queue\": {\"type\": \"queue\", \"drop\": \"tail\", \"limit\": \"10pkt\"}}",
		  "1mbit queue droptail" },
		/* a size and arguments: the size is the limit */
		{ "20pkt", "packets=10",
		  "{\"rate\": \"1mbit\", \"queue\": {\"type\": \"queue\", \"drop\": \"tail\", \"limit\": \"10pkt\"}}",
		  "1mbit queue 20pkt" },
	};
	struct shell_policy s;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&s, 0, sizeof(s));
		opt(&s, BOTH, SHELL_RATE, "1mbit");
		if (cases[i].queue)
			opt(&s, BOTH, SHELL_QUEUE, cases[i].queue);
		if (cases[i].args)
			opt(&s, BOTH, SHELL_QUEUE_ARGS, cases[i].args);
		if (build(&s))
			fail_msg("--queue %s --queue-args %s: %s", cases[i].queue,
				 cases[i].args, usage_msg);
		assert_policy(&s, 0, cases[i].policy);
		assert_policy(&s, 1, cases[i].policy);
		assert_string_equal(s.summary[0], cases[i].summary);
		shell_policy_free(&s);
	}
}

/* --aqm names the queue type (mm-link's spelling); with a --queue size
 * the size is its limit; with the same type it agrees. */
static void test_aqm(void **state)
{
	struct shell_policy s = { 0 };

	opt(&s, BOTH, SHELL_RATE, "5mbit");
	opt(&s, BOTH, SHELL_AQM, "codel");
	opt(&s, DOWN, SHELL_AQM, "pie");
	opt(&s, BOTH, SHELL_QUEUE, "300pkt");
	assert_int_equal(build(&s), 0);
	assert_policy(&s, 0, "{\"rate\": \"5mbit\", \"queue\": {\"type\": \"codel\", \"limit\": \"300pkt\"}}");
	assert_policy(&s, 1, "{\"rate\": \"5mbit\", \"queue\": {\"type\": \"pie\", \"limit\": \"300pkt\"}}");
	assert_string_equal(s.summary[0], "5mbit queue codel 300pkt");
	assert_string_equal(s.summary[1], "5mbit queue pie 300pkt");
	shell_policy_free(&s);

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_RATE, "5mbit");
	opt(&s, BOTH, SHELL_QUEUE, "red");
	opt(&s, BOTH, SHELL_AQM, "red");
	assert_int_equal(build(&s), 0);
	assert_policy(&s, 0, "{\"rate\": \"5mbit\", \"queue\": {\"type\": \"red\"}}");
	shell_policy_free(&s);

	/* per direction: only the down direction has a queue */
	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_RATE, "5mbit");
	opt(&s, DOWN, SHELL_QUEUE, "drophead");
	opt(&s, DOWN, SHELL_QUEUE_ARGS, "packets=4");
	assert_int_equal(build(&s), 0);
	assert_policy(&s, 0, "{\"rate\": \"5mbit\"}");
	assert_policy(&s, 1, "{\"rate\": \"5mbit\", \"queue\": {\"type\": \"queue\", \"drop\": \"head\", \"limit\": \"4pkt\"}}");
	shell_policy_free(&s);
}

/* Traces: absolute paths (sluiced reads them from its own directory),
 * --trace-once per direction, and a direction's own trace or rate
 * replacing the shared capacity. */
static void test_traces(void **state)
{
	struct shell_policy s = { 0 };
	char want[3 * PATH_MAX], cwd[PATH_MAX];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	opt(&s, UP, SHELL_TRACE, "a.up"); /* relative to where we are */
	opt(&s, DOWN, SHELL_TRACE, trace_b);
	opt(&s, DOWN, SHELL_TRACE_ONCE, "1");
	opt(&s, BOTH, SHELL_DELAY, "25ms");
	assert_int_equal(build(&s), 0);
	assert_int_equal(chdir(cwd), 0);
	snprintf(want, sizeof(want), "{\"trace\": \"%s\", \"delay\": \"25ms\"}", trace_a);
	assert_policy(&s, 0, want);
	snprintf(want, sizeof(want), "{\"trace\": \"%s\", \"trace_once\": true, \"delay\": \"25ms\"}", trace_b);
	assert_policy(&s, 1, want);
	assert_string_equal(s.summary[0], "trace:a.up 25ms");
	assert_string_equal(s.summary[1], "trace:b.down 25ms");
	shell_policy_free(&s);

	/* a shared rate, and the down direction's own trace instead of it */
	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_RATE, "10mbit");
	opt(&s, DOWN, SHELL_TRACE, trace_b);
	assert_int_equal(build(&s), 0);
	assert_policy(&s, 0, "{\"rate\": \"10mbit\"}");
	snprintf(want, sizeof(want), "{\"trace\": \"%s\"}", trace_b);
	assert_policy(&s, 1, want);
	shell_policy_free(&s);

	/* a shared trace, and the up direction's own rate instead of it */
	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_TRACE, trace_a);
	opt(&s, BOTH, SHELL_TRACE_ONCE, "1");
	opt(&s, UP, SHELL_RATE, "2mbit");
	assert_int_equal(build(&s), 0);
	assert_policy(&s, 0, "{\"rate\": \"2mbit\"}");
	snprintf(want, sizeof(want), "{\"trace\": \"%s\", \"trace_once\": true}", trace_a);
	assert_policy(&s, 1, want);
	shell_policy_free(&s);
}

/* --policy is the base; the other options add to it. */
static void test_policy_option(void **state)
{
	struct shell_policy s = { 0 };

	opt(&s, BOTH, SHELL_POLICY, "{\"loss\": {\"type\": \"loss_ge\", \"p\": \"1%\", \"r\": \"30%\"}}");
	opt(&s, UP, SHELL_DELAY, "3ms");
	assert_int_equal(build(&s), 0);
	assert_policy(&s, 0, "{\"loss\": {\"type\": \"loss_ge\", \"p\": \"1%\", \"r\": \"30%\"}, \"delay\": \"3ms\"}");
	assert_policy(&s, 1, "{\"loss\": {\"type\": \"loss_ge\", \"p\": \"1%\", \"r\": \"30%\"}}");
	assert_string_equal(s.summary[0], "policy 3ms");
	assert_string_equal(s.summary[1], "policy");
	shell_policy_free(&s);
}

static void test_errors(void **state)
{
	struct shell_policy s = { 0 };
	char want[2 * PATH_MAX];

	opt(&s, BOTH, SHELL_RATE, "fast");
	assert_usage(&s, "--rate 'fast': not a rate; expected a number with a unit such as 10mbit, 1gbit");

	memset(&s, 0, sizeof(s));
	opt(&s, UP, SHELL_DELAY, "10");
	assert_usage(&s, "--up-delay '10': not a time; expected a number with a unit such as 10ms, 250us, 1s");

	memset(&s, 0, sizeof(s));
	opt(&s, DOWN, SHELL_LOSS, "150%");
	assert_usage(&s, "--down-loss '150%': not a fraction; expected a percentage from 0% to 100% such as 1% or 0.5%, or a fraction from 0 to 1 such as 0.01");

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_JITTER, "2ms");
	assert_usage(&s, "--jitter needs a delay (--delay TIME) in the same direction");

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_RATE, "1mbit");
	opt(&s, BOTH, SHELL_TRACE, trace_a);
	assert_usage(&s, "--rate and --trace: a direction's capacity is a rate or a trace, not both");

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_TRACE, "/nonexistent/trace");
	assert_usage(&s, "--trace '/nonexistent/trace': No such file or directory");

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_TRACE_ONCE, "1");
	assert_usage(&s, "--trace-once needs a trace (--trace FILE) in the same direction");

	memset(&s, 0, sizeof(s));
	opt(&s, DOWN, SHELL_TRACE, trace_b);
	opt(&s, UP, SHELL_TRACE_ONCE, "1");
	assert_usage(&s, "--up-trace-once needs a trace (--trace FILE) in the same direction");

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_QUEUE, "drophead");
	assert_usage(&s, "a queue option in the up direction needs --rate or --trace there as well; a queue only fills behind a rate limit");

	memset(&s, 0, sizeof(s));
	opt(&s, UP, SHELL_RATE, "1mbit");
	opt(&s, BOTH, SHELL_AQM, "codel");
	assert_usage(&s, "a queue option in the down direction needs --rate or --trace there as well; a queue only fills behind a rate limit");

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_RATE, "1mbit");
	opt(&s, BOTH, SHELL_QUEUE, "fifo");
	assert_usage(&s, "--queue 'fifo': expected a size such as 100pkt or 64kb, or a queue type: droptail, drophead, infinite, codel, pie or red");

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_RATE, "1mbit");
	opt(&s, BOTH, SHELL_AQM, "100pkt");
	assert_usage(&s, "--aqm '100pkt': expected droptail, drophead, infinite, codel, pie or red");

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_RATE, "1mbit");
	opt(&s, BOTH, SHELL_QUEUE, "codel");
	opt(&s, UP, SHELL_AQM, "pie");
	assert_usage(&s, "--queue codel and --up-aqm pie name two queue types; expected one");

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_RATE, "1mbit");
	opt(&s, BOTH, SHELL_QUEUE_ARGS, "packets");
	assert_usage(&s, "--queue-args 'packets': 'packets' is not KEY=VALUE; expected e.g. packets=100 or target=5,interval=100");

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_RATE, "1mbit");
	opt(&s, DOWN, SHELL_QUEUE_ARGS, "bytes=12k");
	assert_usage(&s, "--down-queue-args: bytes=12k: expected a whole number");

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_SEED, "-1");
	assert_usage(&s, "--seed '-1': expected a whole number");

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_POLICY, "[1]");
	assert_usage(&s, "--policy '[1]': expected a JSON object, e.g. '{\"delay\": \"10ms\"}'");

	/* caught by the check, as sluiced would: a key the queue type lacks,
	 * a value the cell rejects */
	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_RATE, "1mbit");
	opt(&s, BOTH, SHELL_QUEUE, "droptail");
	opt(&s, BOTH, SHELL_QUEUE_ARGS, "target=5");
	assert_int_equal(build(&s), CTL_EXIT_USAGE);
	assert_non_null(strstr(usage_msg, "the up direction ({\"rate\":\"1mbit\",\"queue\":{\"type\":\"queue\",\"drop\":\"tail\",\"target\":\"5ms\"}}): "));
	assert_non_null(strstr(usage_msg, "unknown key \"target\"; expected one of limit, drop"));
	shell_policy_free(&s);

	memset(&s, 0, sizeof(s));
	opt(&s, BOTH, SHELL_RATE, "1mbit");
	opt(&s, BOTH, SHELL_AQM, "codel");
	opt(&s, BOTH, SHELL_QUEUE_ARGS, "interval=soon");
	assert_int_equal(build(&s), CTL_EXIT_USAGE);
	assert_non_null(strstr(usage_msg, "the up direction ("));
	assert_non_null(strstr(usage_msg, "interval"));
	assert_non_null(strstr(usage_msg, "\"soon\""));
	shell_policy_free(&s);

	/* an unreadable trace is caught when the cells are built */
	memset(&s, 0, sizeof(s));
	snprintf(want, sizeof(want), "%s", tmpdir); /* a directory */
	opt(&s, DOWN, SHELL_TRACE, want);
	assert_int_equal(build(&s), CTL_EXIT_USAGE);
	assert_non_null(strstr(usage_msg, "the down direction ("));
	shell_policy_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_shared_values),
		cmocka_unit_test(test_per_direction),
		cmocka_unit_test(test_queue_types),
		cmocka_unit_test(test_aqm),
		cmocka_unit_test(test_traces),
		cmocka_unit_test(test_policy_option),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
