// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * socks5.c - SOCKS5 (RFC 1928) messages for the relay's SOCKS5 front:
 * parsing the client's greeting and request from a buffer, building the
 * server's replies. No I/O here; lib/relay.c feeds the bytes it has read.
 */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <sluice/socks5.h>

int sl_socks5_parse_greeting(const uint8_t *buf, size_t len, int *noauth)
{
	size_t n, i;

	*noauth = 0;
	if (len < 1)
		return 0;
	if (buf[0] != SL_SOCKS5_VERSION)
		return -EPROTO;
	if (len < 2)
		return 0;
	n = buf[1];
	if (n == 0)
		return -EPROTO;
	if (len < 2 + n)
		return 0;
	for (i = 0; i < n; i++)
		if (buf[2 + i] == 0)
			*noauth = 1;
	return (int)(2 + n);
}

int sl_socks5_parse_request(const uint8_t *buf, size_t len,
			    struct sl_socks5_request *req)
{
	size_t need;

	memset(req, 0, sizeof(*req));
	if (len >= 1 && buf[0] != SL_SOCKS5_VERSION)
		return -EPROTO;
	if (len >= 3 && buf[2] != 0)
		return -EPROTO;
	if (len < 5)
		return 0;
	req->cmd = buf[1];
	req->atyp = buf[3];
	switch (req->atyp) {
	case 1:
		need = 4 + 4 + 2;
		break;
	case 4:
		need = 4 + 16 + 2;
		break;
	case 3:
		if (buf[4] == 0)
			return -EPROTO;
		need = 4 + 1 + (size_t)buf[4] + 2;
		break;
	default:
		return -EPROTO;
	}
	if (len < need)
		return 0;
	req->port = (uint16_t)(buf[need - 2] << 8 | buf[need - 1]);
	if (req->atyp == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&req->addr;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, buf + 4, 4);
		sin->sin_port = htons(req->port);
		req->addr_len = sizeof(*sin);
	} else if (req->atyp == 4) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&req->addr;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, buf + 4, 16);
		sin6->sin6_port = htons(req->port);
		req->addr_len = sizeof(*sin6);
	} else {
		memcpy(req->host, buf + 5, buf[4]);
		req->host[buf[4]] = '\0';
		/* A NUL inside the name would cut it short: refuse. */
		if (strlen(req->host) != buf[4])
			return -EPROTO;
	}
	return (int)need;
}

enum sl_socks5_rep sl_socks5_check(const struct sl_socks5_request *req)
{
	if (req->cmd != 1)
		return SL_SOCKS5_CMD_UNSUPPORTED;
	if (req->atyp != 1 && req->atyp != 3 && req->atyp != 4)
		return SL_SOCKS5_ATYP_UNSUPPORTED;
	return SL_SOCKS5_OK;
}

size_t sl_socks5_reply(enum sl_socks5_rep rep, const struct sockaddr *bound,
		       uint8_t *out)
{
	out[0] = SL_SOCKS5_VERSION;
	out[1] = (uint8_t)rep;
	out[2] = 0;
	if (bound && bound->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)bound;

		out[3] = 4;
		memcpy(out + 4, &s6->sin6_addr, 16);
		memcpy(out + 20, &s6->sin6_port, 2);
		return 22;
	}
	out[3] = 1;
	if (bound && bound->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)bound;

		memcpy(out + 4, &s4->sin_addr, 4);
		memcpy(out + 8, &s4->sin_port, 2);
	} else {
		memset(out + 4, 0, 6);
	}
	return 10;
}

enum sl_socks5_rep sl_socks5_rep_from_errno(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return SL_SOCKS5_REFUSED;
	case ENETUNREACH:
		return SL_SOCKS5_NET_UNREACH;
	case EHOSTUNREACH:
	case ETIMEDOUT:
		return SL_SOCKS5_HOST_UNREACH;
	default:
		return SL_SOCKS5_FAILURE;
	}
}
