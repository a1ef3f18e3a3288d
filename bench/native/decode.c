/*
 * Native baseline for `npm run bench`: a plain C decoder of the same capture ntstat decodes.
 * Straightforward on purpose: split each datagram by hdr.length, read the fields ntstat reads
 * into a struct (srcref, provider, counters, pid, ports, addresses, process name), and sum the
 * counters so nothing is optimised away. Offsets come from a parameter file the bench writes
 * from the dialect tables, so this program knows no Apple header.
 *
 * usage: decode CAPTURE PARAMS ITERATIONS
 *   CAPTURE: records of u32 length + datagram bytes
 *   PARAMS:  whitespace-separated integers (see bench/native.ts for the order)
 * prints: messages seconds checksum
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { P_UPD_HDR, P_SRCREF, P_COUNTS, P_PROVIDER, P_C_RXP, P_C_RXB, P_C_TXP, P_C_TXB, P_C_AVGRTT,
       P_TCP_DESC, P_TCP_LOCAL, P_TCP_REMOTE, P_TCP_PID, P_TCP_PNAME, P_TCP_STATE,
       P_UDP_DESC, P_UDP_LOCAL, P_UDP_REMOTE, P_UDP_PID, P_UDP_PNAME, P_TCP_ID, P_UDP_ID, P_COUNT };

struct flow {
  uint64_t srcref, rxp, rxb, txp, txb;
  uint32_t provider, pid, state, avg_rtt;
  uint16_t lport, rport;
  uint8_t family, laddr[16], raddr[16];
  char pname[65];
};

static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

static void sockaddr(const uint8_t *p, uint16_t *port, uint8_t *addr, uint8_t *family) {
  *family = p[1];
  *port = (uint16_t)((p[2] << 8) | p[3]);
  if (p[1] == 2) memcpy(addr, p + 4, 4);
  else if (p[1] == 30) memcpy(addr, p + 8, 16);
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: decode CAPTURE PARAMS ITERATIONS\n"); return 2; }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror("capture"); return 1; }
  fseek(f, 0, SEEK_END); long size = ftell(f); fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc((size_t)size);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) { perror("read"); return 1; }
  fclose(f);
  long prm[P_COUNT];
  FILE *pf = fopen(argv[2], "r");
  if (!pf) { perror("params"); return 1; }
  for (int i = 0; i < P_COUNT; i++) if (fscanf(pf, "%ld", &prm[i]) != 1) { fprintf(stderr, "bad params\n"); return 1; }
  fclose(pf);
  long iterations = atol(argv[3]);
  uint64_t messages = 0, checksum = 0;
  struct flow fl;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long it = 0; it < iterations; it++) {
    long at = 0;
    while (at + 4 <= size) {
      uint32_t dlen = rd32(buf + at);
      const uint8_t *d = buf + at + 4;
      uint32_t m = 0;
      while (m + 16 <= dlen) {
        const uint8_t *msg = d + m;
        uint16_t len = rd16(msg + 12);
        if (len < 16 || m + len > dlen) break;
        uint32_t type = rd32(msg + 8);
        if (type == 10006) {
          const uint8_t *c = msg + prm[P_COUNTS];
          fl.srcref = rd64(msg + prm[P_SRCREF]);
          fl.provider = rd32(msg + prm[P_PROVIDER]);
          fl.rxp = rd64(c + prm[P_C_RXP]); fl.rxb = rd64(c + prm[P_C_RXB]);
          fl.txp = rd64(c + prm[P_C_TXP]); fl.txb = rd64(c + prm[P_C_TXB]);
          fl.avg_rtt = rd32(c + prm[P_C_AVGRTT]);
          const uint8_t *ds = msg + prm[P_UPD_HDR];
          int tcp = fl.provider == (uint32_t)prm[P_TCP_ID];
          sockaddr(ds + (tcp ? prm[P_TCP_LOCAL] : prm[P_UDP_LOCAL]), &fl.lport, fl.laddr, &fl.family);
          sockaddr(ds + (tcp ? prm[P_TCP_REMOTE] : prm[P_UDP_REMOTE]), &fl.rport, fl.raddr, &fl.family);
          fl.pid = rd32(ds + (tcp ? prm[P_TCP_PID] : prm[P_UDP_PID]));
          fl.state = tcp ? rd32(ds + prm[P_TCP_STATE]) : 0;
          strncpy(fl.pname, (const char *)ds + (tcp ? prm[P_TCP_PNAME] : prm[P_UDP_PNAME]), 64);
          fl.pname[64] = 0;
          checksum += fl.srcref + fl.rxb + fl.txb + fl.rxp + fl.txp + fl.pid + fl.lport + fl.rport + fl.avg_rtt + fl.state + (uint8_t)fl.pname[0] + fl.laddr[0];
        }
        messages++;
        m += len;
      }
      at += 4 + dlen;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("%llu %.6f %llu\n", (unsigned long long)messages, secs, (unsigned long long)checksum);
  free(buf);
  return 0;
}
