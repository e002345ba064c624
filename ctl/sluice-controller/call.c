// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * call.c - `sluice-controller call`: one REST request to a controller
 * through lib/ctl_client.c (what sluicectl --controller uses), printing
 * the HTTP status and the JSON answer. For scripts, debugging and the
 * tests of the client library.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/ctl_client.h>

#include "controller.h"

int call_main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "token", required_argument, NULL, 't' },
		{ "insecure", no_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 'T' },
		{ 0 },
	};
	struct sl_ctl_call call = { .token = getenv("SLUICE_TOKEN") };
	struct sl_err err = { "" };
	json_object *body = NULL, *reply = NULL;
	int ch, status, ret;

	while ((ch = getopt_long(argc, argv, "t:k", lo, NULL)) != -1) {
		switch (ch) {
		case 't': call.token = optarg; break;
		case 'k': call.insecure = true; break;
		case 'T': call.timeout_ms = atoi(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind < 3 || argc - optind > 4) {
		fprintf(stderr, "Usage: sluice-controller call [--token T] [--insecure] URL METHOD PATH [JSON]\n"
				"The token may also come from $SLUICE_TOKEN.\n");
		return 2;
	}
	call.url = argv[optind];
	call.method = argv[optind + 1];
	call.path = argv[optind + 2];
	if (argc - optind == 4) {
		body = json_tokener_parse(argv[optind + 3]);
		if (!body) {
			fprintf(stderr, "sluice-controller call: the body is not JSON\n");
			return 2;
		}
		call.body = body;
	}
	ret = sl_ctl_request(&call, &status, &reply, &err);
	json_object_put(body);
	if (ret) {
		fprintf(stderr, "sluice-controller call: %s\n", err.msg);
		return 1;
	}
	printf("%d %s\n", status, reply ? json_object_to_json_string_ext(reply,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : "");
	json_object_put(reply);
	return status >= 200 && status < 300 ? 0 : 1;
}
