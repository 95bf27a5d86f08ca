/*
 * tcp_wire.c - the TCP header on the wire (RFC 9293 3.1 and 3.2): the gate,
 * the options, parse and emit.
 *
 * tcp_check() applies the header rules in the order Linux's tcp_v4_rcv()
 * does (fixed header, data offset, checksum); tcp_parse() then reads the
 * options, every one bounded by the header's end, so a length of 0 or 1 or
 * one running past the header is a named drop and never a loop.
 * Limits: tcp_emit() writes MSS, window scale, SACK-permitted and timestamps;
 * SACK blocks are read, never written.
 */
#include <stdio.h>
#include <string.h>

#include "tcpip/bytes.h"
#include "tcpip/cksum.h"
#include "tcpip/l4.h"
#include "tcpip/tcp.h"

enum drop_reason tcp_check(const struct ip4_hdr *ip, const uint8_t *seg, size_t len,
			   struct l4_sum *sum)
{
	size_t hdr_len;
	uint32_t pseudo;

	if (len < TCP_MIN_HDR_LEN)
		return DROP_TCP_TRUNCATED;
	hdr_len = (size_t)(seg[12] >> 4) * 4;
	if (hdr_len < TCP_MIN_HDR_LEN)
		return DROP_TCP_BAD_OFFSET;          /* RFC 9293 3.1: at least 5 words */
	if (hdr_len > len)
		return DROP_TCP_TRUNCATED_OPTIONS;   /* the header runs past the segment */
	/* The caller passes the IP payload, so len fits in 16 bits. */
	pseudo = cksum_pseudo4(ip->src, ip->dst, IPPROTO_NUM_TCP, (uint16_t)len);
	sum->received = get_be16(seg + 16);
	sum->expected = cksum_expected(pseudo, seg, len, 16);
	if (cksum_finish(cksum_add(pseudo, seg, len)) != 0)
		return DROP_TCP_BAD_CHECKSUM;        /* MUST-2, MUST-3 */
	return DROP_NONE;
}

/* Reads one known option of kind at body[0..body_len) (its bytes after kind
 * and length) into *opts.  A length that does not fit the kind is ignored,
 * as Linux's tcp_parse_options() does (in the spirit of RFC 9293 MUST-6). */
static void tcp_read_option(uint8_t kind, const uint8_t *body, size_t body_len,
			    struct tcp_opts *opts)
{
	switch (kind) {
	case TCP_OPT_MSS:
		if (body_len == 2) {
			opts->has_mss = true;
			opts->mss = get_be16(body);
		}
		break;
	case TCP_OPT_WSCALE:
		if (body_len == 1) {
			opts->has_wscale = true;
			opts->wscale = body[0];
		}
		break;
	case TCP_OPT_SACK_OK:
		if (body_len == 0)
			opts->sack_ok = true;
		break;
	case TCP_OPT_TS:
		if (body_len == 8) {
			opts->has_ts = true;
			opts->ts_val = get_be32(body);
			opts->ts_ecr = get_be32(body + 4);
		}
		break;
	case TCP_OPT_SACK:
		if (body_len % 8 == 0 && body_len / 8 >= 1 && body_len / 8 <= TCP_MAX_SACK_BLOCKS) {
			opts->sack_blocks = (uint8_t)(body_len / 8);
			for (size_t i = 0; i < opts->sack_blocks; i++) {
				opts->sack_left[i] = get_be32(body + 8 * i);
				opts->sack_right[i] = get_be32(body + 8 * i + 4);
			}
		}
		break;
	default: /* MUST-6: an unknown option is skipped by its length */
		break;
	}
}

enum drop_reason tcp_parse_options(const uint8_t *opt, size_t len, struct tcp_opts *opts)
{
	size_t pos = 0;

	memset(opts, 0, sizeof *opts);
	while (pos < len) {
		uint8_t kind = opt[pos];
		size_t opt_len;

		if (kind == TCP_OPT_EOL)
			break;                       /* the rest is padding */
		if (kind == TCP_OPT_NOP) {
			pos++;
			continue;
		}
		/* MUST-7: a length byte must be there, be at least 2 (so the
		 * loop always advances) and stay inside the header. */
		if (len - pos < 2)
			return DROP_TCP_BAD_OPTION;
		opt_len = opt[pos + 1];
		if (opt_len < 2 || opt_len > len - pos)
			return DROP_TCP_BAD_OPTION;
		tcp_read_option(kind, opt + pos + 2, opt_len - 2, opts);
		pos += opt_len;
	}
	return DROP_NONE;
}

enum drop_reason tcp_parse(const uint8_t *seg, size_t len, struct tcp_hdr *hdr)
{
	(void)len; /* tcp_check() proved seg[0..hdr_len) readable */
	hdr->sport = get_be16(seg);
	hdr->dport = get_be16(seg + 2);
	hdr->seq = get_be32(seg + 4);
	hdr->ack = get_be32(seg + 8);
	hdr->hdr_len = (uint8_t)((seg[12] >> 4) * 4);
	hdr->flags = seg[13];
	hdr->win = get_be16(seg + 14);
	hdr->checksum = get_be16(seg + 16);
	hdr->urg = get_be16(seg + 18);
	return tcp_parse_options(seg + TCP_MIN_HDR_LEN, hdr->hdr_len - TCP_MIN_HDR_LEN,
				 &hdr->opts);
}

/* Bytes of the options tcp_emit() writes, before padding. */
static size_t tcp_opt_bytes(const struct tcp_opts *opts)
{
	return (opts->has_mss ? 4u : 0u) + (opts->has_wscale ? 3u : 0u) +
	       (opts->sack_ok ? 2u : 0u) + (opts->has_ts ? 10u : 0u);
}

size_t tcp_len(const struct tcp_hdr *hdr)
{
	return TCP_MIN_HDR_LEN + (tcp_opt_bytes(&hdr->opts) + 3) / 4 * 4;
}

/* Writes the options at p, NOP-padded to a multiple of 4 bytes. */
static void tcp_emit_options(const struct tcp_opts *opts, uint8_t *p, size_t padded)
{
	uint8_t *start = p;

	if (opts->has_mss) {
		*p++ = TCP_OPT_MSS;
		*p++ = 4;
		put_be16(p, opts->mss);
		p += 2;
	}
	if (opts->has_wscale) {
		*p++ = TCP_OPT_WSCALE;
		*p++ = 3;
		*p++ = opts->wscale;
	}
	if (opts->sack_ok) {
		*p++ = TCP_OPT_SACK_OK;
		*p++ = 2;
	}
	if (opts->has_ts) {
		*p++ = TCP_OPT_TS;
		*p++ = 10;
		put_be32(p, opts->ts_val);
		put_be32(p + 4, opts->ts_ecr);
		p += 8;
	}
	memset(p, TCP_OPT_NOP, padded - (size_t)(p - start));
}

size_t tcp_emit(const struct tcp_hdr *hdr, uint8_t *buf, size_t cap)
{
	size_t hdr_len = tcp_len(hdr);

	if (cap < hdr_len)
		return 0;
	put_be16(buf, hdr->sport);
	put_be16(buf + 2, hdr->dport);
	put_be32(buf + 4, hdr->seq);
	put_be32(buf + 8, hdr->ack);
	buf[12] = (uint8_t)(hdr_len / 4 << 4);
	buf[13] = hdr->flags;
	put_be16(buf + 14, hdr->win);
	put_be16(buf + 16, 0);
	put_be16(buf + 18, hdr->urg);
	tcp_emit_options(&hdr->opts, buf + TCP_MIN_HDR_LEN, hdr_len - TCP_MIN_HDR_LEN);
	return hdr_len;
}

char *tcp_flags_text(uint8_t flags, char out[9])
{
	static const struct { uint8_t bit; char letter; } order[] = {
		{TCP_FIN, 'F'}, {TCP_SYN, 'S'}, {TCP_RST, 'R'}, {TCP_PSH, 'P'}, {TCP_ACK, '.'},
		{TCP_URG, 'U'}, {TCP_ECE, 'E'}, {TCP_CWR, 'W'},
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		if (flags & order[i].bit)
			out[n++] = order[i].letter;
	if (n == 0)
		out[n++] = '-';
	out[n] = '\0';
	return out;
}
