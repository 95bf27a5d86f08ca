/*
 * test_frames.c - every frame vector of testvectors/frames/ through the
 * stack's input: the verdict must be the vector's, fields must parse as the
 * vector says, and no byte past the frame may be read (guard page).
 */
#include <stdlib.h>
#include <string.h>

#include "tcpip/stack.h"
#include "vec.h"

static const uint8_t target_mac[ETH_ADDR_LEN] = {2, 0, 0, 0, 0, 2};
#define TARGET_IP 0xc0000202u /* 192.0.2.2 */

/* Compares one "name=value" field of a parsed header; returns 1 if equal. */
static int field_matches(const struct ip4_hdr *ip, const char *name, const char *value)
{
	char text[16];
	const char *flags = (ip->frag & IP4_FLAG_DF) ? ((ip->frag & IP4_FLAG_MF) ? "DF+MF" : "DF")
						     : ((ip->frag & IP4_FLAG_MF) ? "MF" : "none");
	unsigned long number = strtoul(value, NULL, 0);

	if (strcmp(name, "hdr_len") == 0) return ip->hdr_len == number;
	if (strcmp(name, "tos") == 0) return ip->tos == number;
	if (strcmp(name, "total_len") == 0) return ip->total_len == number;
	if (strcmp(name, "id") == 0) return ip->id == number;
	if (strcmp(name, "flags") == 0) return strcmp(flags, value) == 0;
	if (strcmp(name, "offset") == 0) return (ip->frag & IP4_FRAG_OFFSET_MASK) * 8u == number;
	if (strcmp(name, "ttl") == 0) return ip->ttl == number;
	if (strcmp(name, "proto") == 0) return ip->proto == number;
	if (strcmp(name, "src") == 0) return strcmp(ip4_ntoa(ip->src, text), value) == 0;
	if (strcmp(name, "dst") == 0) return strcmp(ip4_ntoa(ip->dst, text), value) == 0;
	return 0;
}

/* Checks every "name=value" of fields against the header in frame. */
static void check_fields(const char *vname, const uint8_t *frame, size_t len, const char *fields)
{
	struct ip4_hdr ip;
	char copy[512], *save = NULL;

	CHECK(ip4_parse(frame + ETH_HDR_LEN, len - ETH_HDR_LEN, &ip) == DROP_NONE,
	      "%s: fields given but the header does not parse", vname);
	snprintf(copy, sizeof copy, "%s", fields);
	for (char *pair = strtok_r(copy, " ", &save); pair; pair = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(pair, '=');

		CHECK(eq != NULL, "%s: field '%s' has no '='", vname, pair);
		if (!eq)
			continue;
		*eq = '\0';
		CHECK(field_matches(&ip, pair, eq + 1), "%s: field %s is not %s", vname, pair, eq + 1);
	}
}

/* Runs one vector through a fresh stack. */
static void check_vector(const struct vec *v, const char *path)
{
	static uint8_t frame[VEC_MAX_VALUE / 2];
	const char *name = vec_get(v, "vector"), *want = vec_get(v, "verdict");
	long len = vec_hex(vec_get(v, "frame") ? vec_get(v, "frame") : "", frame, sizeof frame);
	/* A host at 192.0.2.2/24 that answers echo (its answers go nowhere:
	 * no tx; the harness checks answers on the lab's veth). */
	struct stack_cfg cfg = {.ip4_addr = TARGET_IP, .prefix_len = 24, .answer_echo = true};
	struct stack *st;
	uint8_t *copy;
	enum drop_reason got;

	CHECK(name && want && vec_get(v, "rfc") && vec_get(v, "linux") && len >= 0,
	      "%s:%d: vector lacks vector/rfc/frame/verdict/linux", path, v->line);
	if (!name || !want || len < 0)
		return;
	CHECK(drop_by_name(want) != DROP__COUNT, "%s: unknown verdict %s", name, want);
	memcpy(cfg.mac, target_mac, sizeof target_mac);
	st = stack_new(&cfg);
	copy = guard_copy(frame, (size_t)len);
	if (!st || !copy)
		abort();
	got = stack_input(st, 0, copy, (size_t)len);
	CHECK(strcmp(drop_name(got), want) == 0, "%s: verdict %s, want %s", name, drop_name(got), want);
	CHECK(stack_counters(st)->frames_in == 1 &&
		      (got == DROP_NONE ? stack_counters(st)->ip4_delivered +
						  stack_counters(st)->arp_in == 1
					: stack_counters(st)->drops[got] == 1),
	      "%s: counters do not record the verdict", name);
	if (vec_get(v, "fields"))
		check_fields(name, copy, (size_t)len, vec_get(v, "fields"));
	guard_free(copy, (size_t)len);
	stack_free(st);
}

/* Runs every vector of one file; returns how many. */
static int run_file(const char *file_name)
{
	static struct vec v;
	char path[512];
	int lineno = 0, count = 0, rc;
	FILE *file = vec_open(file_name, path, sizeof path);

	CHECK(file != NULL, "cannot open %s", path);
	if (!file)
		return 0;
	while ((rc = vec_next(file, path, &v, &lineno)) == 1) {
		check_vector(&v, path);
		count++;
	}
	CHECK(rc == 0, "%s: read error", path);
	fclose(file);
	printf("%s: %d vectors\n", file_name, count);
	return count;
}

int main(void)
{
	int count = run_file("frames/ipv4.vec") + run_file("frames/truncation.vec") +
		    run_file("frames/l4.vec") + run_file("frames/arp.vec") + run_file("frames/icmp.vec") +
		    run_file("frames/tcp.vec");

	CHECK(count > 80, "only %d frame vectors", count);
	return test_report("test_frames");
}
