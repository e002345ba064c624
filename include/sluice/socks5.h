/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * socks5.h - the SOCKS5 front of a relay (RFC 1928): the two client
 * messages parsed from a byte buffer and the server replies built into one,
 * with no I/O, so that every branch is testable without sockets.
 *
 * Supported: method 0 (no authentication), command CONNECT, address types
 * IPv4, IPv6 and domain name (resolved by the relay, numeric names or
 * /etc/hosts of the relay's process).
 */
#ifndef SLUICE_SOCKS5_H
#define SLUICE_SOCKS5_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SL_SOCKS5_VERSION 5
#define SL_SOCKS5_MAX_REQUEST 262 /* 4 + 1 + 255 + 2 */

/* Reply codes (RFC 1928 section 6). */
enum sl_socks5_rep {
	SL_SOCKS5_OK = 0,
	SL_SOCKS5_FAILURE = 1,
	SL_SOCKS5_NOT_ALLOWED = 2,
	SL_SOCKS5_NET_UNREACH = 3,
	SL_SOCKS5_HOST_UNREACH = 4,
	SL_SOCKS5_REFUSED = 5,
	SL_SOCKS5_TTL = 6,
	SL_SOCKS5_CMD_UNSUPPORTED = 7,
	SL_SOCKS5_ATYP_UNSUPPORTED = 8,
};

/*
 * Greeting: VER NMETHODS METHODS. Returns the bytes it takes (> 0) once
 * whole, 0 when more bytes are needed, -EPROTO when it is not SOCKS5.
 * *noauth tells whether method 0 is offered (else reply 0xFF and close).
 */
int sl_socks5_parse_greeting(const uint8_t *buf, size_t len, int *noauth);

struct sl_socks5_request {
	uint8_t cmd;  /* 1 CONNECT, 2 BIND, 3 UDP ASSOCIATE */
	uint8_t atyp; /* 1 IPv4, 3 domain, 4 IPv6 */
	char host[256]; /* atyp 3, NUL-terminated */
	uint16_t port;  /* host order */
	struct sockaddr_storage addr; /* atyp 1 and 4, port included */
	socklen_t addr_len;
};

/*
 * Request: VER CMD RSV ATYP DST.ADDR DST.PORT. Returns the bytes taken
 * (> 0) with req filled, 0 when more are needed, -EPROTO when malformed
 * (wrong version, reserved byte, empty name) or of an address type whose
 * length is unknown (then the caller replies ATYP_UNSUPPORTED and closes).
 * An unsupported command is parsed: sl_socks5_check() tells.
 */
int sl_socks5_parse_request(const uint8_t *buf, size_t len,
			    struct sl_socks5_request *req);
/* SL_SOCKS5_OK when the request is a CONNECT to a supported address
 * type, else the reply code to refuse it with. */
enum sl_socks5_rep sl_socks5_check(const struct sl_socks5_request *req);

/* Builds a reply into out (at least 22 bytes); bound may be NULL (then
 * 0.0.0.0:0). Returns its length. */
size_t sl_socks5_reply(enum sl_socks5_rep rep, const struct sockaddr *bound,
		       uint8_t *out);
/* The reply code for a failed connect(2) errno. */
enum sl_socks5_rep sl_socks5_rep_from_errno(int e);

#endif
