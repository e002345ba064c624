// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * auth.c - tokens: generation, hashing, comparison.
 *
 * Tokens are 256 random bits, so a plain SHA-256 is enough to store them
 * (no password stretching needed: there is nothing to guess). Only the
 * hash is kept in the database; a leaked table does not let anyone in.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <openssl/evp.h>

#include "controller.h"

void token_hash(const char *token, char out[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	if (!EVP_Digest(token, strlen(token), d, &n, EVP_sha256(), NULL) || n != 32) {
		/* Never matches a stored hash (those are lower-case hex). */
		snprintf(out, 65, "%s", "!");
		return;
	}
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int token_new(char out[48])
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char r[32];
	int i;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	/* 6 bits per character: 256 bits in 43 characters. */
	for (i = 0; i < 43; i++) {
		int bit = i * 6, byte = bit / 8, off = bit % 8;
		unsigned v = (unsigned)r[byte] << 8 | (byte + 1 < 32 ? r[byte + 1] : 0);

		out[i] = b64[(v >> (10 - off)) & 63];
	}
	out[43] = '\0';
	return 0;
}

bool hash_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}
