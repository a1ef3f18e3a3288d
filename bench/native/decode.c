/*
 * Native baseline for the decode benchmark (`npm run bench`, bench/decode.ts), doing the work
 * decodeDatagram does for the same capture, so the ratio compares equal work:
 *   - split each datagram by hdr.length (checking it against the bytes left);
 *   - per message read context, type, length, flags; dispatch on the type;
 *   - SRC_UPDATE: check the length is exactly the update header plus the provider's descriptor,
 *     read srcref, event flags, provider and every nstat_counts field (64-bit ones checked to fit
 *     2^53, as ntstat rejects larger ones with ERR_NTSTAT_RANGE);
 *   - the descriptor: every field readStruct reads (the list comes from the same table,
 *     fields.ts structFieldOps), each by its kind, with the same conversions to text through the
 *     same kind of cache (2-way tables of 4096 slots, hits verified against the bytes, text made
 *     only on a miss), as ntstat's intern.ts does:
 *       integers and bools as numbers (u64 range-checked); C strings scanned to the NUL, empty ->
 *       absent, else interned by hash + length + bytes; UUIDs zero-checked, else their 8-4-4-4-12
 *       text from a cache; sockaddrs: family, port, scope/flow, and the address's text (dotted
 *       quad, RFC 5952 IPv6) from a cache; the activity bitmap's start and its 32-hex-digit text
 *       from a cache; raw blobs copied.
 * What still differs: ntstat builds JS objects per message (message, counts, descriptor, two
 * endpoints, bitmap: ~700 B, then garbage) where this program fills one reused C struct of
 * pointers to the cached texts; non-ASCII names stay UTF-8 bytes here (ntstat decodes them to a
 * JS string; the capture's names are ASCII). A checksum keeps the compiler from dropping the reads.
 *
 * usage: decode CAPTURE PARAMS ITERATIONS
 *   CAPTURE: records of u32 length + datagram bytes
 *   PARAMS:  whitespace-separated integers written by bench/decode.ts (nativeParams)
 * prints: messages cpu-seconds checksum
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { K_U8, K_U16, K_U32, K_I32, K_U64, K_U64STR, K_BOOL, K_CHARS, K_UUID, K_SOCKADDR, K_BITMAP, K_RAW };
struct op { int kind, offset, size; };
struct desc { uint32_t provider; int size, n; struct op ops[96]; };

struct value {
  uint64_t u;
  const char *text; /* interned text (names, UUIDs, addresses, bitmap bits), NULL when absent */
  uint8_t bytes[72];
  int len;
};
struct message {
  uint64_t context, srcref, event_flags, counts[32];
  uint32_t type, flags, provider;
  uint16_t length;
  struct value fields[96];
};

static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static long upd_size, upd_srcref, upd_flags, upd_counts, upd_provider;
static int ncounts, counts_off[32], counts_wide[32], ndesc;
static struct desc descs[4];

static int range_errors;
/* A u64 as ntstat reads it: exact below 2^53, else an ERR_NTSTAT_RANGE (counted here). */
static uint64_t u64_checked(const uint8_t *p) {
  uint32_t hi = rd32(p + 4);
  if (hi > 0x1fffff) range_errors++;
  return ((uint64_t)hi << 32) | rd32(p);
}

/* ---- caches, as intern.ts: 4096 slots in pairs, a hit verified against the bytes. */
#define SLOTS 4096
static uint32_t slot_of(uint32_t key) { return (key * 0x9e3779b1u) >> 20; }

struct slot16 { uint32_t w[4]; int used; char text[48]; };
typedef void (*fmt16)(const uint8_t *p, char *out);
static const char *cache16(struct slot16 *c, const uint8_t *p, fmt16 fmt) {
  uint32_t w0 = rd32(p), w1 = rd32(p + 4), w2 = rd32(p + 8), w3 = rd32(p + 12);
  uint32_t k = w0 ^ (w1 * 31) ^ (w2 * 961) ^ (w3 * 29791);
  uint32_t i = slot_of(k ^ (k >> 16));
  for (uint32_t t = 0; t < 2; t++) {
    struct slot16 *s = &c[i ^ t];
    if (s->used && s->w[0] == w0 && s->w[1] == w1 && s->w[2] == w2 && s->w[3] == w3) return s->text;
  }
  c[i ^ 1] = c[i];
  struct slot16 *s = &c[i];
  s->w[0] = w0; s->w[1] = w1; s->w[2] = w2; s->w[3] = w3; s->used = 1;
  fmt(p, s->text);
  return s->text;
}
struct slot4 { uint32_t w; int used; char text[16]; };
static const char *cache4(struct slot4 *c, const uint8_t *p) {
  uint32_t w = rd32(p), i = slot_of(w);
  for (uint32_t t = 0; t < 2; t++) if (c[i ^ t].used && c[i ^ t].w == w) return c[i ^ t].text;
  c[i ^ 1] = c[i];
  c[i].w = w; c[i].used = 1;
  snprintf(c[i].text, sizeof c[i].text, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
  return c[i].text;
}
struct slotn { uint32_t hash; int len, used; char text[72]; };
static const char *cache_name(struct slotn *c, const uint8_t *p, int len, uint32_t hash) {
  uint32_t i = slot_of(hash);
  for (uint32_t t = 0; t < 2; t++) {
    struct slotn *s = &c[i ^ t];
    if (s->used && s->len == len && memcmp(s->text, p, (size_t)len) == 0) return s->text;
  }
  c[i ^ 1] = c[i];
  c[i].hash = hash; c[i].len = len; c[i].used = 1;
  memcpy(c[i].text, p, (size_t)len);
  c[i].text[len] = 0;
  return c[i].text;
}

static const char HEXD[] = "0123456789abcdef";
static void fmt_uuid(const uint8_t *p, char *o) {
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
    *o++ = HEXD[p[i] >> 4]; *o++ = HEXD[p[i] & 15];
  }
  *o = 0;
}
static void fmt_bits(const uint8_t *p, char *o) {
  for (int i = 15; i >= 0; i--) { *o++ = HEXD[p[i] >> 4]; *o++ = HEXD[p[i] & 15]; }
  *o = 0;
}
/* RFC 5952: longest run (>= 2) of zero groups compressed, lowercase; ::ffff:a.b.c.d for mapped. */
static void fmt_ip6(const uint8_t *p, char *o) {
  int g[8], best = -1, bestlen = 0;
  for (int i = 0; i < 8; i++) g[i] = (p[2 * i] << 8) | p[2 * i + 1];
  if (!g[0] && !g[1] && !g[2] && !g[3] && !g[4] && g[5] == 0xffff) { sprintf(o, "::ffff:%u.%u.%u.%u", p[12], p[13], p[14], p[15]); return; }
  for (int i = 0; i < 8;) {
    if (g[i]) { i++; continue; }
    int j = i;
    while (j < 8 && !g[j]) j++;
    if (j - i > bestlen) { best = i; bestlen = j - i; }
    i = j;
  }
  if (bestlen < 2) best = -1;
  for (int i = 0; i < 8; i++) {
    if (i == best) { *o++ = ':'; *o++ = ':'; i += bestlen - 1; continue; }
    if (i > 0 && i != best + bestlen) *o++ = ':';
    o += sprintf(o, "%x", g[i]);
  }
  *o = 0;
}

static struct slot16 c_uuid[SLOTS], c_ip6[SLOTS], c_bits[SLOTS];
static struct slot4 c_ip4[SLOTS];
static struct slotn c_names[SLOTS];

static void read_field(const struct op *o, const uint8_t *p, struct value *v) {
  switch (o->kind) {
    case K_U8: case K_BOOL: v->u = p[0]; break;
    case K_U16: v->u = rd16(p); break;
    case K_U32: case K_I32: v->u = rd32(p); break;
    case K_U64: v->u = u64_checked(p); break;
    case K_U64STR: v->u = rd64(p); break;
    case K_CHARS: {
      int n = 0;
      uint32_t h = 0x811c9dc5u;
      while (n < o->size && p[n]) { h = (h ^ p[n]) * 0x01000193u; n++; }
      v->len = n;
      v->text = n ? cache_name(c_names, p, n, h) : NULL;
      break;
    }
    case K_UUID: {
      int nz = (rd64(p) | rd64(p + 8)) != 0;
      v->text = nz ? cache16(c_uuid, p, fmt_uuid) : NULL;
      break;
    }
    case K_SOCKADDR: {
      uint8_t family = p[1];
      v->u = (uint64_t)((p[2] << 8) | p[3]);
      if (family == 2) v->text = cache4(c_ip4, p + 4);
      else if (family == 30) {
        v->text = cache16(c_ip6, p + 8, fmt_ip6);
        v->len = (int)(rd32(p + 24) + rd32(p + 4)); /* scope id, flow info */
      } else v->text = NULL;
      break;
    }
    case K_BITMAP: v->u = u64_checked(p); v->text = cache16(c_bits, p + 8, fmt_bits); break;
    case K_RAW: memcpy(v->bytes, p, (size_t)(o->size < 72 ? o->size : 72)); v->len = o->size; break;
  }
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: decode CAPTURE PARAMS ITERATIONS\n"); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror("capture"); return 1; }
  fseek(f, 0, SEEK_END); long size = ftell(f); fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)size);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) { perror("read"); return 1; }
  fclose(f);
  FILE *pf = fopen(argv[2], "r");
  if (!pf) { perror("params"); return 1; }
#define RD(x) if (fscanf(pf, "%ld", &tmp) != 1) { fprintf(stderr, "bad params\n"); return 1; } x = tmp;
  long tmp;
  RD(upd_size) RD(upd_srcref) RD(upd_flags) RD(upd_counts) RD(upd_provider) RD(ncounts)
  for (int i = 0; i < ncounts; i++) { RD(counts_off[i]) RD(counts_wide[i]) }
  RD(ndesc)
  for (int d = 0; d < ndesc; d++) {
    RD(descs[d].provider) RD(descs[d].size) RD(descs[d].n)
    for (int i = 0; i < descs[d].n; i++) { RD(descs[d].ops[i].kind) RD(descs[d].ops[i].offset) RD(descs[d].ops[i].size) }
  }
  fclose(pf);
  long iterations = atol(argv[3]);
  uint64_t messages = 0, checksum = 0;
  static struct message m;
  struct timespec t0, t1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  for (long it = 0; it < iterations; it++) {
    long at = 0;
    while (at + 4 <= size) {
      uint32_t dlen = rd32(buf + at);
      const uint8_t *d = buf + at + 4;
      uint32_t off = 0;
      while (off < dlen) {
        if (dlen - off < 16) { fprintf(stderr, "short header\n"); return 1; }
        const uint8_t *p = d + off;
        m.context = rd64(p);
        m.type = rd32(p + 8);
        m.length = rd16(p + 12);
        m.flags = rd16(p + 14);
        if (m.length < 16 || m.length > dlen - off) { fprintf(stderr, "bad length\n"); return 1; }
        switch (m.type) {
          case 10006: {
            m.srcref = rd64(p + upd_srcref);
            m.event_flags = rd64(p + upd_flags);
            m.provider = rd32(p + upd_provider);
            for (int i = 0; i < ncounts; i++) m.counts[i] = counts_wide[i] ? u64_checked(p + upd_counts + counts_off[i]) : rd32(p + upd_counts + counts_off[i]);
            const struct desc *ds = NULL;
            for (int k = 0; k < ndesc; k++) if (descs[k].provider == m.provider) ds = &descs[k];
            if (!ds) break;
            if (m.length != upd_size + ds->size) { fprintf(stderr, "bad update size\n"); return 1; }
            const uint8_t *base = p + upd_size;
            for (int i = 0; i < ds->n; i++) read_field(&ds->ops[i], base + ds->ops[i].offset, &m.fields[i]);
            checksum += m.srcref + m.counts[1] + m.counts[3] + m.fields[0].u + m.fields[ds->n - 1].u + (uint64_t)m.fields[ds->n / 2].len;
            for (int i = 0; i < ds->n; i++) checksum += (uint64_t)(uintptr_t)m.fields[i].text;
            break;
          }
          default:
            break;
        }
        messages++;
        off += m.length;
      }
      at += 4 + dlen;
    }
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  if (range_errors) { fprintf(stderr, "%d values above 2^53\n", range_errors); return 1; }
  printf("%llu %.6f %llu\n", (unsigned long long)messages, secs, (unsigned long long)checksum);
  free(buf);
  return 0;
}
