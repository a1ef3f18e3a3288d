/*
 * Native baseline for the decode benchmark (`npm run bench`, bench/decode.ts), doing the work
 * decodeDatagram does for the same capture, so the ratio compares equal work:
 *   - split each datagram by hdr.length (checking it against the bytes left);
 *   - per message read context, type, length, flags; dispatch on the type;
 *   - SRC_UPDATE: check the length is exactly the update header plus the provider's descriptor,
 *     read srcref, event flags, provider and every nstat_counts field;
 *   - the descriptor: every field readStruct reads (the list comes from the same table,
 *     fields.ts structFieldOps), each by its kind: integers, bools, C strings (scanned to the NUL
 *     and copied), UUIDs (zero check, 16 bytes copied), sockaddrs (family, port, address bytes,
 *     scope), the activity bitmap (start + 16 bytes), raw blobs (copied).
 * What differs: ntstat builds JS objects and turns addresses, UUIDs and bitmaps into text
 * (through caches: the same few values repeat); this program fills one C struct per message and
 * keeps those as bytes. A checksum keeps the compiler from dropping the reads.
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

static void read_field(const struct op *o, const uint8_t *p, struct value *v) {
  switch (o->kind) {
    case K_U8: case K_BOOL: v->u = p[0]; break;
    case K_U16: v->u = rd16(p); break;
    case K_U32: case K_I32: v->u = rd32(p); break;
    case K_U64: case K_U64STR: v->u = rd64(p); break;
    case K_CHARS: {
      int n = 0;
      while (n < o->size && p[n]) n++;
      memcpy(v->bytes, p, (size_t)n);
      v->len = n;
      v->u = n;
      break;
    }
    case K_UUID: {
      int nz = 0;
      for (int i = 0; i < 16; i++) nz |= p[i];
      v->len = nz ? 16 : 0;
      if (nz) memcpy(v->bytes, p, 16);
      v->u = (uint64_t)nz;
      break;
    }
    case K_SOCKADDR: {
      uint8_t family = p[1];
      v->u = ((uint64_t)family << 16) | (uint64_t)((p[2] << 8) | p[3]);
      if (family == 2) { memcpy(v->bytes, p + 4, 4); v->len = 4; }
      else if (family == 30) { memcpy(v->bytes, p + 8, 16); memcpy(v->bytes + 16, p + 24, 4); memcpy(v->bytes + 20, p + 4, 4); v->len = 24; }
      else v->len = 0;
      break;
    }
    case K_BITMAP: v->u = rd64(p); memcpy(v->bytes, p + 8, 16); v->len = 16; break;
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
            for (int i = 0; i < ncounts; i++) m.counts[i] = counts_wide[i] ? rd64(p + upd_counts + counts_off[i]) : rd32(p + upd_counts + counts_off[i]);
            const struct desc *ds = NULL;
            for (int k = 0; k < ndesc; k++) if (descs[k].provider == m.provider) ds = &descs[k];
            if (!ds) break;
            if (m.length != upd_size + ds->size) { fprintf(stderr, "bad update size\n"); return 1; }
            const uint8_t *base = p + upd_size;
            for (int i = 0; i < ds->n; i++) read_field(&ds->ops[i], base + ds->ops[i].offset, &m.fields[i]);
            checksum += m.srcref + m.counts[1] + m.counts[3] + m.fields[0].u + m.fields[ds->n - 1].u + (uint64_t)m.fields[ds->n / 2].len;
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
  printf("%llu %.6f %llu\n", (unsigned long long)messages, secs, (unsigned long long)checksum);
  free(buf);
  return 0;
}
