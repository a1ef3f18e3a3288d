/*
 * Native baseline for the replay benchmark (`npm run bench`, bench/replay.ts): what `ntstat
 * replay FILE --utc` does, written plainly in C, so the ratio compares equal work:
 *   - read the libntstat recording (u32 LE time, u32 LE length, bytes) in 1 MiB chunks;
 *   - skip client requests (first header's type 1001..1008);
 *   - split every aggregated record by hdr.length;
 *   - keep a table srcref -> flow (open addressing): SRC_ADDED makes a pending source, the first
 *     descriptor (SRC_DESC or SRC_UPDATE) announces it, SRC_COUNTS/SRC_UPDATE with changed bytes
 *     or packets (or a changed summary) is an update, CLOSING-flagged news is stored silently,
 *     SRC_REMOVED ends it;
 *   - mark adds of the initial phase (indented ` +`) as ntstat decides it (cli/replay-initial.ts):
 *     the recorded GET_UPDATE/QUERY_SRC requests' contexts are polls; the phase ends after the
 *     record holding the first final SUCCESS (or ERROR) of a poll; before any poll request, a
 *     SUCCESS ends it (the passive client's rule);
 *   - decode from each descriptor what a log line shows (addresses, ports, pid, process name,
 *     TCP state, interface) and from counts bytes, packets and the per-medium bytes;
 *   - format the same log line(s) per event (`+`, `#`, `-`, the `bytes (tx/rx)` line) with
 *     inet_ntop and gmtime, escaping control characters in process names, into a buffered stdout.
 * The bench checks that its output is byte-identical to ntstat's before timing either.
 * Offsets come from a parameter file the bench writes from the dialect tables (this program knows
 * no Apple header). Kernel TCP/UDP providers only (what the benchmark recording holds).
 *
 * usage: replay RECORDING PARAMS > out
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
  P_SRCREF, P_ADD_PROV, P_DESC_PROV, P_DESC_DATA, P_CNT_COUNTS, P_UPD_COUNTS, P_UPD_PROV, P_UPD_DATA,
  P_C_RXP, P_C_RXB, P_C_TXP, P_C_TXB, P_C_CELLRX, P_C_CELLTX, P_C_WIFIRX, P_C_WIFITX, P_C_WIREDRX, P_C_WIREDTX,
  P_TCP_LOCAL, P_TCP_REMOTE, P_TCP_PID, P_TCP_PNAME, P_TCP_STATE, P_TCP_PROPS,
  P_UDP_LOCAL, P_UDP_REMOTE, P_UDP_PID, P_UDP_PNAME, P_UDP_PROPS,
  P_TCP_ID, P_UDP_ID, P_CLOSING,
  P_IF_UNKNOWN, P_IF_LOOPBACK, P_IF_CELL, P_IF_WIFI, P_IF_WIRED, P_IF_AWDL, P_CONTINUATION, P_COUNT
};
static long prm[P_COUNT];

struct ep { uint8_t family; uint16_t port; uint8_t addr[16]; };
struct flow {
  uint64_t srcref;
  uint8_t used, tomb, described, announced, tcp, has_counts;
  uint32_t pid, state, props;
  struct ep local, remote;
  char pname[65];
  uint64_t rxp, rxb, txp, txb, cellrx, celltx, wifirx, wifitx, wiredrx, wiredtx;
};

static struct flow *tab;
static size_t cap = 1 << 16, used, tombs;

static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static size_t slot(uint64_t k) { k ^= k >> 33; k *= 0xff51afd7ed558ccdULL; k ^= k >> 33; return (size_t)k & (cap - 1); }

static struct flow *find(uint64_t ref) {
  for (size_t i = slot(ref);; i = (i + 1) & (cap - 1)) {
    if (!tab[i].used && !tab[i].tomb) return NULL;
    if (tab[i].used && tab[i].srcref == ref) return &tab[i];
  }
}
static struct flow *insert(uint64_t ref);
/* Rehash (doubling when over a quarter full): drops the tombstones removals leave. */
static void rehash(void) {
  struct flow *old = tab; size_t n = cap;
  if (used * 4 > cap) cap *= 2;
  tab = calloc(cap, sizeof *tab); used = 0; tombs = 0;
  for (size_t i = 0; i < n; i++) if (old[i].used) *insert(old[i].srcref) = old[i];
  free(old);
}
static struct flow *insert(uint64_t ref) {
  if ((used + tombs + 1) * 2 > cap) rehash();
  size_t i = slot(ref);
  while (tab[i].used) i = (i + 1) & (cap - 1);
  if (tab[i].tomb) tombs--;
  memset(&tab[i], 0, sizeof tab[i]);
  tab[i].used = 1; tab[i].srcref = ref; used++;
  return &tab[i];
}

static char out[1 << 16];
static size_t olen;
static void emit(const char *s, size_t n) {
  if (olen + n > sizeof out) { fwrite(out, 1, olen, stdout); olen = 0; }
  memcpy(out + olen, s, n); olen += n;
}

static void sockaddr(const uint8_t *p, struct ep *e) {
  e->family = p[1];
  e->port = (uint16_t)((p[2] << 8) | p[3]);
  if (p[1] == 2) memcpy(e->addr, p + 4, 4);
  else if (p[1] == 30) memcpy(e->addr, p + 8, 16);
}
static int same_ep(const struct ep *a, const struct ep *b) {
  return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, a->family == 2 ? 4 : 16) == 0;
}
static int fmt_ep(char *b, const struct ep *e) {
  char a[64];
  if (e->family != 2 && e->family != 30) return sprintf(b, "- 0");
  inet_ntop(e->family == 2 ? AF_INET : AF_INET6, e->addr, a, sizeof a);
  return sprintf(b, "%s %u", a, e->port);
}
static const char *iface(const struct flow *f) {
  uint64_t wifi = f->wifirx + f->wifitx, wired = f->wiredrx + f->wiredtx, cell = f->cellrx + f->celltx;
  if (f->has_counts && (wifi || wired || cell)) return wifi >= wired && wifi >= cell ? "wifi" : wired >= cell ? "wired" : "cellular";
  uint32_t p = f->props;
  if (!f->described) return "unknown";
  if (p & prm[P_IF_LOOPBACK]) return "loopback";
  if (p & prm[P_IF_CELL]) return "cellular";
  if (p & prm[P_IF_AWDL]) return "awdl";
  if (p & prm[P_IF_WIFI]) return "wifi";
  if (p & prm[P_IF_WIRED]) return "wired";
  if ((p & prm[P_IF_UNKNOWN]) || p == 0) return "unknown";
  return "other";
}
/* "TCP addr port - addr port pid:N (name)", control characters in the name escaped. */
static int describe(char *b, const struct flow *f) {
  int n = sprintf(b, "%s ", f->tcp ? "TCP" : "UDP");
  n += fmt_ep(b + n, &f->local);
  n += sprintf(b + n, " - ");
  n += fmt_ep(b + n, &f->remote);
  n += sprintf(b + n, " pid:%u (", f->pid);
  for (const unsigned char *c = (const unsigned char *)f->pname; *c; c++) {
    if (*c < 0x20 || *c == 0x7f) n += sprintf(b + n, "\\x%02x", *c);
    else b[n++] = (char)*c;
  }
  b[n++] = ')';
  return n;
}
static void line(const char *lead, uint32_t t, const struct flow *f, int bytes) {
  char b[512];
  time_t tt = t; struct tm tm; gmtime_r(&tt, &tm);
  int n = sprintf(b, "%s %02d:%02d:%02d ", lead, tm.tm_hour, tm.tm_min, tm.tm_sec);
  n += describe(b + n, f);
  b[n++] = '\n';
  if (bytes && f->has_counts)
    n += sprintf(b + n, "  bytes (tx/rx):%llu/%llu  packets:%llu/%llu %s\n", (unsigned long long)f->txb, (unsigned long long)f->rxb,
                 (unsigned long long)f->txp, (unsigned long long)f->rxp, iface(f));
  emit(b, (size_t)n);
}

/* Store counts; returns whether bytes or packets changed (what makes an update). */
static int counts(struct flow *f, const uint8_t *c) {
  uint64_t rxp = rd64(c + prm[P_C_RXP]), rxb = rd64(c + prm[P_C_RXB]), txp = rd64(c + prm[P_C_TXP]), txb = rd64(c + prm[P_C_TXB]);
  int changed = !f->has_counts || rxp != f->rxp || rxb != f->rxb || txp != f->txp || txb != f->txb;
  f->rxp = rxp; f->rxb = rxb; f->txp = txp; f->txb = txb;
  f->cellrx = rd64(c + prm[P_C_CELLRX]); f->celltx = rd64(c + prm[P_C_CELLTX]);
  f->wifirx = rd64(c + prm[P_C_WIFIRX]); f->wifitx = rd64(c + prm[P_C_WIFITX]);
  f->wiredrx = rd64(c + prm[P_C_WIREDRX]); f->wiredtx = rd64(c + prm[P_C_WIREDTX]);
  f->has_counts = 1;
  return changed;
}
/* Decode a descriptor; returns whether the summary (addresses, pid, name, state, medium) changed. */
static int descriptor(struct flow *f, const uint8_t *d) {
  struct flow o = *f;
  int tcp = f->tcp;
  sockaddr(d + prm[tcp ? P_TCP_LOCAL : P_UDP_LOCAL], &f->local);
  sockaddr(d + prm[tcp ? P_TCP_REMOTE : P_UDP_REMOTE], &f->remote);
  f->pid = rd32(d + prm[tcp ? P_TCP_PID : P_UDP_PID]);
  f->props = rd32(d + prm[tcp ? P_TCP_PROPS : P_UDP_PROPS]);
  f->state = tcp ? rd32(d + prm[P_TCP_STATE]) : 0;
  memcpy(f->pname, d + prm[tcp ? P_TCP_PNAME : P_UDP_PNAME], 64);
  f->pname[64] = 0;
  f->described = 1;
  return !o.described || !same_ep(&o.local, &f->local) || !same_ep(&o.remote, &f->remote) || o.pid != f->pid || o.state != f->state ||
         o.props != f->props || strcmp(o.pname, f->pname) != 0;
}

/* Initial phase (see the top): poll contexts, the passive client's own rule, the tracker's state. */
static uint64_t *polls;
static size_t npolls, polls_cap;
static int client_initial = 1, ends_after_current, over;
static int is_poll(uint64_t ctx) {
  for (size_t i = 0; i < npolls; i++) if (polls[i] == ctx) return 1;
  return 0;
}
static int initial_add(void) { return npolls ? !over : client_initial; }

static void message(const uint8_t *m, uint32_t t) {
  uint32_t type = rd32(m + 8);
  uint16_t flags = rd16(m + 14);
  int closing = (flags & prm[P_CLOSING]) != 0;
  if (type == 0) { client_initial = 0; return; } /* SUCCESS */
  if (type < 10001 || type > 10006) return;
  uint64_t ref = rd64(m + prm[P_SRCREF]);
  struct flow *f = find(ref);
  switch (type) {
    case 10001: /* SRC_ADDED */
      if (!f) { f = insert(ref); f->tcp = rd32(m + prm[P_ADD_PROV]) == (uint32_t)prm[P_TCP_ID]; }
      return;
    case 10002: /* SRC_REMOVED */
      if (!f) return;
      if (f->announced) line("-", t, f, 1);
      f->used = 0; f->tomb = 1; used--; tombs++;
      return;
    case 10004: /* SRC_COUNTS */
      if (!f) return;
      if (counts(f, m + prm[P_CNT_COUNTS]) && f->announced && !closing) line("#", t, f, 1);
      return;
    case 10003: /* SRC_DESC */
    case 10006: { /* SRC_UPDATE */
      int upd = type == 10006;
      uint32_t prov = rd32(m + prm[upd ? P_UPD_PROV : P_DESC_PROV]);
      if (!f) { if (closing) return; f = insert(ref); }
      f->tcp = prov == (uint32_t)prm[P_TCP_ID];
      int changed = descriptor(f, m + prm[upd ? P_UPD_DATA : P_DESC_DATA]);
      if (upd) changed = counts(f, m + prm[P_UPD_COUNTS]) || changed;
      if (!f->announced) { f->announced = 1; line(initial_add() ? " +" : "+", t, f, 0); }
      else if (changed && !closing) line("#", t, f, 1);
      return;
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: replay RECORDING PARAMS\n"); return 2; }
  FILE *pf = fopen(argv[2], "r");
  if (!pf) { perror("params"); return 1; }
  for (int i = 0; i < P_COUNT; i++) if (fscanf(pf, "%ld", &prm[i]) != 1) { fprintf(stderr, "bad params\n"); return 1; }
  fclose(pf);
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror("recording"); return 1; }
  tab = calloc(cap, sizeof *tab);
  size_t bcap = 1 << 20, have = 0, at = 0;
  uint8_t *buf = malloc(bcap);
  printf("XNU version:%s\n", getenv("XNU") ? getenv("XNU") : "?");
  fflush(stdout);
  for (;;) {
    /* Keep the unread tail, then fill the rest of the buffer (grown for a record larger than it). */
    memmove(buf, buf + at, have - at); have -= at; at = 0;
    size_t n = fread(buf + have, 1, bcap - have, f);
    have += n;
    if (n == 0 && have == 0) break;
    while (have - at >= 8) {
      uint32_t t = rd32(buf + at), len = rd32(buf + at + 4);
      if (8 + (size_t)len > bcap) { bcap = 8 + (size_t)len; buf = realloc(buf, bcap); }
      if (have - at < 8 + (size_t)len) break;
      const uint8_t *d = buf + at + 8;
      at += 8 + len;
      if (len >= 16 && rd32(d + 8) >= 1001 && rd32(d + 8) <= 1008) {
        /* A request: remember the contexts of polls (GET_UPDATE 1007, QUERY_SRC 1004). */
        for (uint32_t m = 0; m + 16 <= len;) {
          uint16_t ml = rd16(d + m + 12);
          if (ml < 16 || m + ml > len) break;
          uint32_t type = rd32(d + m + 8);
          if ((type == 1007 || type == 1004) && !is_poll(rd64(d + m))) {
            if (npolls == polls_cap) { polls_cap = polls_cap ? 2 * polls_cap : 64; polls = realloc(polls, polls_cap * sizeof *polls); }
            polls[npolls++] = rd64(d + m);
          }
          m += ml;
        }
        continue;
      }
      if (ends_after_current) over = 1;
      if (!over && npolls) for (uint32_t m = 0; m + 16 <= len;) {
        uint16_t ml = rd16(d + m + 12);
        if (ml < 16 || m + ml > len) break;
        uint32_t type = rd32(d + m + 8);
        /* A final SUCCESS (no CONTINUATION) or an ERROR answering a poll ends the phase after this record. */
        if ((type == 1 || (type == 0 && !(rd16(d + m + 14) & prm[P_CONTINUATION]))) && is_poll(rd64(d + m))) ends_after_current = 1;
        m += ml;
      }
      for (uint32_t m = 0; m + 16 <= len;) {
        uint16_t ml = rd16(d + m + 12);
        if (ml < 16 || m + ml > len) break;
        message(d + m, t);
        m += ml;
      }
    }
    if (n == 0) { if (have - at) { fprintf(stderr, "truncated recording\n"); return 1; } break; }
  }
  fwrite(out, 1, olen, stdout);
  return 0;
}
