// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test_kpolicy.c - planning the kernel path of a link direction from its
 * policy (lib/kpolicy.c): policer, burst and loss values with their
 * defaults, the shaper keys handed to lib/shaper.c, and the exact error
 * messages. Parsing only: no kernel needed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/kpolicy.h>

static struct sl_kpolicy plan(const char *policy)
{
	struct sl_kpolicy kp;
	struct sl_err err = { "" };

	if (sl_kpolicy_from_policy(policy, 1500, &kp, &err))
		fail_msg("%s: %s", policy, err.msg);
	return kp;
}

static void bad(const char *policy, int ret, const char *msg)
{
	struct sl_kpolicy kp;
	struct sl_err err = { "" };

	memset(&kp, 0x5a, sizeof(kp));
	assert_int_equal(sl_kpolicy_from_policy(policy, 1500, &kp, &err), ret);
	assert_string_equal(err.msg, msg);
	/* nothing half-planned is left */
	assert_int_equal(kp.fabric.policer_bps, 0);
	assert_int_equal(kp.shaper.rate_bps, 0);
}

static void test_none(void **state)
{
	struct sl_kpolicy kp = plan(NULL), zero;

	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(&kp, &zero, sizeof(kp));
	kp = plan("{}");
	assert_memory_equal(&kp, &zero, sizeof(kp));
}

static void test_policer(void **state)
{
	struct sl_kpolicy kp = plan("{\"policer\":\"50mbit\",\"burst\":\"64kb\"}");

	assert_int_equal(kp.fabric.policer_bps, 50000000);
	assert_int_equal(kp.fabric.burst, 65536);
	assert_int_equal(kp.fabric.loss_ppm, 0);
	assert_int_equal(kp.shaper.rate_bps, 0);
	/* default burst: 10 ms at the rate */
	kp = plan("{\"policer\":\"50mbit\"}");
	assert_int_equal(kp.fabric.burst, 62500);
	kp = plan("{\"policer\":\"1gbit\"}");
	assert_int_equal(kp.fabric.burst, 1250000);
	/* ... but at least two frames */
	kp = plan("{\"policer\":\"1mbit\"}");
	assert_int_equal(kp.fabric.burst, 2 * 1514);
	/* frames: mtu + 14 each */
	kp = plan("{\"policer\":\"1mbit\",\"burst\":\"10pkt\"}");
	assert_int_equal(kp.fabric.burst, 15140);
	kp = plan("{\"policer\":\"1mbit\",\"burst\":\"1500b\"}");
	assert_int_equal(kp.fabric.burst, 1500);
	/* capped: 10 ms of 1 tbit/s is more than a gigabyte */
	kp = plan("{\"policer\":\"1tbit\"}");
	assert_int_equal(kp.fabric.burst, SL_POLICER_BURST_MAX);
}

static void test_loss(void **state)
{
	assert_int_equal(plan("{\"loss\":\"10%\"}").fabric.loss_ppm, 100000);
	assert_int_equal(plan("{\"loss\":\"0.01%\"}").fabric.loss_ppm, 100);
	assert_int_equal(plan("{\"loss\":\"0%\"}").fabric.loss_ppm, 0);
	assert_int_equal(plan("{\"loss\":\"100%\"}").fabric.loss_ppm, 1000000);
	assert_int_equal(plan("{\"loss\":\"0.25\"}").fabric.loss_ppm, 250000);
	/* a seed is for the user-space dataplane: accepted, nothing else */
	assert_int_equal(plan("{\"loss\":\"1%\",\"seed\":7}").fabric.loss_ppm, 10000);
}

/* rate and queue are lib/shaper.c's: the same numbers it computes alone. */
static void test_shaper_keys(void **state)
{
	const char *alone = "{\"rate\":\"20mbit\",\"queue\":\"64kb\"}";
	struct sl_kpolicy kp = plan("{\"rate\":\"20mbit\",\"policer\":\"30mbit\",\"queue\":\"64kb\",\"loss\":\"1%\"}");
	struct sl_shaper sh;

	assert_int_equal(sl_shaper_from_policy(alone, 1500, &sh, NULL), 0);
	assert_memory_equal(&kp.shaper, &sh, sizeof(sh));
	assert_int_equal(kp.shaper.rate_bps, 20000000);
	assert_int_equal(kp.fabric.policer_bps, 30000000);
	assert_int_equal(kp.fabric.loss_ppm, 10000);
	kp = plan("{\"queue\":\"100pkt\"}"); /* a queue alone shapes nothing */
	assert_int_equal(kp.shaper.rate_bps, 0);
}

static void test_errors(void **state)
{
	bad("[1]", -EINVAL, "policy: expected a JSON object");
	bad("{\"policer\":\"fast\"}", -EINVAL,
	    "policy.policer: \"fast\" is not a rate; expected a number with a unit such as 10mbit, 1gbit");
	bad("{\"policer\":50}", -EINVAL,
	    "policy.policer: expected a string such as \"50mbit\"");
	bad("{\"loss\":\"lots\"}", -EINVAL,
	    "policy.loss: \"lots\" is not a fraction; expected a percentage from 0% to 100% such as 1% or 0.5%, or a fraction from 0 to 1 such as 0.01");
	bad("{\"loss\":0.1}", -EINVAL,
	    "policy.loss: expected a string such as \"1%\"");
	bad("{\"policer\":\"10mbit\",\"burst\":\"big\"}", -EINVAL,
	    "policy.burst: \"big\" is not a size; expected bytes such as 64kb or 1500b, or frames such as 10pkt");
	bad("{\"burst\":\"64kb\"}", -EINVAL,
	    "policy.burst: a burst without a policer; expected \"policer\" with it, such as \"policer\": \"50mbit\"");
	bad("{\"policer\":\"10mbit\",\"burst\":\"2g\"}", -EINVAL,
	    "policy.burst: 2147483648 bytes is too large; expected at most 1gb");
	bad("{\"policer\":\"10mbit\",\"delay\":\"10ms\"}", -EOPNOTSUPP,
	    "policy.delay: needs the normal-mode dataplane (cells); the kernel path does rate, queue, policer, burst and loss");
	bad("{\"jitter\":\"1ms\"}", -EOPNOTSUPP,
	    "policy.jitter: needs the normal-mode dataplane (cells); the kernel path does rate, queue, policer, burst and loss");
	bad("{\"cells\":[]}", -EOPNOTSUPP,
	    "policy.cells: needs the normal-mode dataplane (cells); the kernel path does rate, queue, policer, burst and loss");
	bad("{\"loss\":{\"type\":\"loss_ge\"}}", -EOPNOTSUPP,
	    "policy.loss: an object (a loss model cell) needs the normal-mode dataplane; the kernel path does rate, queue, policer, burst and loss");
	bad("{\"trace\":\"x.down\"}", -EOPNOTSUPP,
	    "policy.trace: needs the normal-mode dataplane (cells); the kernel path does rate, queue, policer, burst and loss");
	/* the shaper's own messages come through */
	bad("{\"rate\":\"fast\",\"policer\":\"1mbit\"}", -EINVAL,
	    "policy.rate: \"fast\"; expected a rate such as 10mbit");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_policer),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_shaper_keys),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
