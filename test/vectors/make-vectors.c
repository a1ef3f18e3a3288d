/*
 * make-vectors: kernel sessions for every wire dialect family of com.apple.network.statistics,
 * assembled from the structs in layouts.h (our own definitions, checked against the layout facts),
 * never from ntstat's TypeScript codec. test/vectors.test.ts compiles this with the system C
 * compiler, compares the output with the committed sessions.txt, and runs the real client over it.
 *
 * Output, one item per line:
 *   family NAME xnu=TAG                     a new family; requests it expects:
 *   request addall SIZE PROVIDER_AT          ADD_ALL_SRCS size and where the provider id sits
 *   request poll SIZE                        QUERY_SRC / GET_SRC_DESC / GET_UPDATE size
 *   session active|passive                   active: replies to the client's own requests;
 *                                            passive: a recorded non-update-mode subscriber
 *   on addall PROVIDER | on poll N TYPE      the replies to that request (poll N = Nth ALL poll,
 *                                            continuations included, of request TYPE)
 *   rec MSG MSG...                           one record (one recv()): messages back to back, in
 *                                            hex; "=" before a message = give it the request's
 *                                            context (its first 8 bytes)
 *   want SRCREF desc|counts KEY VALUE        what the client must report for that field (last wins)
 *   end
 * Values: n:DECIMAL, s:TEXT, u:UUID, e:FAMILY/ADDRESS/PORT, a:START/BITS (hex, high word first).
 * The world (BEHAVIOUR.md §3, §5.1, §5.2): srcref 1 TCP v4 curl (SYN_SENT, then ESTABLISHED),
 * 2 TCP v6 Safari (ends in TIME_WAIT: goodbye), 3 TCP v4 sshd listener, 4 UDP v4 ntpd (connected),
 * 5 UDP v6 mDNSResponder (unconnected: no remote).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "layouts.h"

enum { T_SUCCESS = 0, T_ERROR = 1, T_QUERY = 1004, T_GET_DESC = 1005, T_GET_UPDATE = 1007 };
enum { T_ADDED = 10001, T_REMOVED = 10002, T_DESC = 10003, T_COUNTS = 10004, T_UPDATE = 10006 };
enum { F_CONTINUATION = 0x2, F_CLOSING = 0x4 };
enum { ENOENT_ = 2, ENOTSUP_ = 45 };
enum { AF4 = 2, AF6 = 30 };

/* ---------------------------------------------------------------- the world */

typedef struct {
  uint64_t rx_pk, rx_b, tx_pk, tx_b, cell_rx, cell_tx, wifi_rx, wifi_tx, wired_rx, wired_tx;
  uint32_t dup_b, ooo_b, rexmit_b, conn_tries, conn_ok, rtt_min, rtt_avg, rtt_var;
} tally_t;

typedef struct {
  uint64_t src;
  int udp, v6, has_remote;
  uint8_t laddr[16], raddr[16];
  uint16_t lport, rport;
  const char *ltext, *rtext;
  uint32_t pid, e_pid, ifindex, state, sndbuf, sndbuf_used, rcvbuf, rcvbuf_used, unacked, txwin, cwin, tclass, tmgt;
  uint64_t upid, e_upid, started, now;
  const char *name, *cc;
  uint8_t uuid[16], e_uuid[16], v_uuid[16], f_uuid[16];
  uint32_t ifprops, persona, uid, probes;
  uint8_t fallback;
  tally_t t;
} flow_t;

static flow_t world[5];

static void uuid_of(uint8_t *u, unsigned seed) {
  for (int i = 0; i < 16; i++) u[i] = (uint8_t)(seed * 17 + i * 13 + 1);
}

static void make_world(void) {
  static const uint8_t lan[4] = {192, 168, 1, 20}, web[4] = {93, 184, 216, 34}, ntp[4] = {17, 253, 34, 123};
  static const uint8_t me6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20};
  static const uint8_t cdn6[16] = {0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
  memset(world, 0, sizeof world);
  for (unsigned i = 0; i < 5; i++) {
    flow_t *f = &world[i];
    f->src = i + 1;
    uuid_of(f->uuid, i * 4 + 1);
    uuid_of(f->e_uuid, i * 4 + 2);
    uuid_of(f->v_uuid, i * 4 + 3);
    uuid_of(f->f_uuid, i * 4 + 4);
    f->upid = 0x10000 + 100 * i;
    f->e_upid = 0x20000 + 100 * i;
    f->started = 1000000000ull + 1000 * i;
    f->now = 2000000000ull + 1000 * i;
    f->persona = 0xffffffffu;
    f->uid = 501;
    f->tclass = 0;
  }
  flow_t *f = &world[0]; /* TCP v4, connecting (BEHAVIOUR.md §5.1: attempts 1, successes 0) */
  memcpy(f->laddr, lan, 4), memcpy(f->raddr, web, 4), f->lport = 53012, f->rport = 443, f->has_remote = 1;
  f->ltext = "192.168.1.20", f->rtext = "93.184.216.34";
  f->pid = 4242, f->e_pid = 4243, f->name = "curl", f->cc = "cubic", f->ifindex = 4, f->state = 2;
  f->sndbuf = 131072, f->sndbuf_used = 517, f->rcvbuf = 131072, f->rcvbuf_used = 0, f->unacked = 517, f->txwin = 65535, f->cwin = 14480, f->tmgt = 1;
  f->ifprops = 0x8; /* wifi */
  f->t = (tally_t){.rx_pk = 2, .rx_b = 140, .tx_pk = 3, .tx_b = 657, .wifi_rx = 140, .wifi_tx = 657, .conn_tries = 1, .conn_ok = 0, .rtt_min = 0, .rtt_avg = 0, .rtt_var = 4000};
  f = &world[1]; /* TCP v6, established, bytes on two media (moved from wifi to wired) */
  memcpy(f->laddr, me6, 16), memcpy(f->raddr, cdn6, 16), f->lport = 50001, f->rport = 443, f->v6 = 1, f->has_remote = 1;
  f->ltext = "2001:db8:1::20", f->rtext = "2606:2800:220:1::1";
  f->pid = 311, f->e_pid = 312, f->name = "Safari", f->cc = "newreno", f->ifindex = 6, f->state = 4;
  f->sndbuf = 262144, f->sndbuf_used = 1200, f->rcvbuf = 524288, f->rcvbuf_used = 4096, f->unacked = 1200, f->txwin = 262144, f->cwin = 28960, f->tclass = 700;
  f->ifprops = 0x10; /* wired */
  f->t = (tally_t){.rx_pk = 60, .rx_b = 70000, .tx_pk = 40, .tx_b = 6000, .wifi_rx = 10000, .wifi_tx = 1000, .wired_rx = 60000, .wired_tx = 5000,
                   .dup_b = 1448, .ooo_b = 2896, .rexmit_b = 512, .conn_tries = 1, .conn_ok = 1, .rtt_min = 320, .rtt_avg = 480, .rtt_var = 200};
  f = &world[2]; /* TCP v4 listener: no remote, attempts and successes 0 */
  f->lport = 22, f->ltext = "0.0.0.0";
  f->pid = 122, f->e_pid = 122, f->name = "sshd", f->cc = "cubic", f->ifindex = 0, f->state = 1;
  f->sndbuf = 8192, f->rcvbuf = 8192, f->ifprops = 0x1; /* unknown: no output interface yet (§5.9) */
  f = &world[3]; /* UDP v4, connected */
  f->udp = 1, memcpy(f->laddr, lan, 4), memcpy(f->raddr, ntp, 4), f->lport = 123, f->rport = 123, f->has_remote = 1;
  f->ltext = "192.168.1.20", f->rtext = "17.253.34.123";
  f->pid = 700, f->e_pid = 701, f->name = "ntpd", f->ifindex = 4, f->rcvbuf = 196724, f->rcvbuf_used = 76, f->ifprops = 0x8;
  f->t = (tally_t){.rx_pk = 4, .rx_b = 304, .tx_pk = 5, .tx_b = 380, .wifi_rx = 304, .wifi_tx = 380};
  f = &world[4]; /* UDP v6, unconnected */
  f->udp = 1, f->v6 = 1, f->lport = 5353, f->ltext = "::";
  f->pid = 88, f->e_pid = 88, f->name = "mDNSResponder", f->ifindex = 0, f->rcvbuf = 786896, f->ifprops = 0x1;
  f->t = (tally_t){.rx_pk = 31, .rx_b = 9300, .tx_pk = 7, .tx_b = 1500, .cell_rx = 2000, .cell_tx = 100, .wifi_rx = 7300, .wifi_tx = 1400};
}

/* Between the two sweeps: curl connected and moved data; Safari entered TIME_WAIT (its goodbye). */
static void advance_world(void) {
  flow_t *f = &world[0];
  f->state = 4, f->sndbuf_used = 0, f->unacked = 0, f->now += 5000;
  f->t = (tally_t){.rx_pk = 30, .rx_b = 45000, .tx_pk = 20, .tx_b = 2400, .wifi_rx = 45000, .wifi_tx = 2400,
                   .dup_b = 11, .ooo_b = 22, .rexmit_b = 33, .conn_tries = 1, .conn_ok = 1, .rtt_min = 288, .rtt_avg = 416, .rtt_var = 96};
  f = &world[1];
  f->state = 10, f->now += 5000;
  f->t.rx_pk = 75, f->t.rx_b = 91000, f->t.wired_rx = 81000;
}

/* ---------------------------------------------------------------- output */

static void hex(const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
}

static void rec_begin(void) { printf("rec"); }
static void rec_end(void) { printf("\n"); }
/* One message of the current record: head bytes, then an optional body (descriptor). */
static void msg(int reply, const void *head, size_t hn, const void *body, size_t bn) {
  printf(" %s", reply ? "=" : "");
  hex(head, hn);
  if (body) hex(body, bn);
}

/* want lines are buffered while a record line is open. */
static char wants[65536];
static size_t wlen;
static void want(uint64_t src, const char *kind, const char *key, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void want(uint64_t src, const char *kind, const char *key, const char *fmt, ...) {
  va_list ap;
  wlen += (size_t)snprintf(wants + wlen, sizeof wants - wlen, "want %" PRIu64 " %s %s ", src, kind, key);
  va_start(ap, fmt);
  wlen += (size_t)vsnprintf(wants + wlen, sizeof wants - wlen, fmt, ap);
  va_end(ap);
  wlen += (size_t)snprintf(wants + wlen, sizeof wants - wlen, "\n");
}
static void flush_wants(void) {
  fwrite(wants, 1, wlen, stdout);
  wlen = 0;
}
static void want_uuid(uint64_t src, const char *key, const uint8_t *u) {
  char t[40];
  int n = 0;
  for (int i = 0; i < 16; i++) n += snprintf(t + n, sizeof t - (size_t)n, "%s%02x", (i == 4 || i == 6 || i == 8 || i == 10) ? "-" : "", u[i]);
  want(src, "desc", key, "u:%s", t);
}

/* ---------------------------------------------------------------- descriptors */

#define N(key, field, value) ((d)->field = (value), want(f->src, "desc", key, "n:%" PRIu64, (uint64_t)(d)->field))
#define S(key, field, value) (strncpy((d)->field, (value), sizeof (d)->field - 1), want(f->src, "desc", key, "s:%s", (value)))
#define U(key, field, value) (memcpy((d)->field, (value), 16), want_uuid(f->src, key, (d)->field))

static void put_endpoint(const flow_t *f, endpoint_t *e, int local) {
  const uint8_t *a = local ? f->laddr : f->raddr;
  uint16_t port = local ? f->lport : f->rport;
  const char *key = local ? "local" : "remote";
  if (!local && !f->has_remote) {
    want(f->src, "desc", key, "none");
    return;
  }
  if (f->v6) {
    e->v6.len = 28, e->v6.family = AF6, memcpy(e->v6.addr, a, 16);
    e->v6.port[0] = (uint8_t)(port >> 8), e->v6.port[1] = (uint8_t)port;
  } else {
    e->v4.len = 16, e->v4.family = AF4, memcpy(e->v4.addr, a, 4);
    e->v4.port[0] = (uint8_t)(port >> 8), e->v4.port[1] = (uint8_t)port;
  }
  want(f->src, "desc", key, "e:%d/%s/%u", f->v6 ? 6 : 4, local ? f->ltext : f->rtext, port);
}

/* Fields every family has, TCP then UDP. */
#define TCP_BASE                                                                                           \
  put_endpoint(f, &d->local, 1), put_endpoint(f, &d->remote, 0);                                           \
  N("ifindex", ifindex, f->ifindex), N("state", state, f->state), N("sndbufsize", sndbuf, f->sndbuf);      \
  N("sndbufused", sndbuf_used, f->sndbuf_used), N("rcvbufsize", rcvbuf, f->rcvbuf);                        \
  N("rcvbufused", rcvbuf_used, f->rcvbuf_used), N("txunacked", unacked, f->unacked);                       \
  N("txwindow", txwin, f->txwin), N("txcwindow", cwin, f->cwin), N("upid", upid, f->upid);                 \
  N("pid", pid, f->pid), S("pname", name, f->name)
#define UDP_BASE                                                                                           \
  put_endpoint(f, &d->local, 1), put_endpoint(f, &d->remote, 0);                                           \
  N("ifindex", ifindex, f->ifindex), N("rcvbufsize", rcvbuf, f->rcvbuf), N("rcvbufused", rcvbuf_used, f->rcvbuf_used); \
  N("upid", upid, f->upid), N("pid", pid, f->pid), S("pname", name, f->name)
#define WHO_EFFECTIVE N("eupid", e_upid, f->e_upid), N("epid", e_pid, f->e_pid), U("uuid", uuid, f->uuid), U("euuid", e_uuid, f->e_uuid)
#define MODERN_HEAD                                                                                        \
  N("upid", upid, f->upid), N("eupid", e_upid, f->e_upid), N("startTimestamp", started, f->started);      \
  N("timestamp", now, f->now);                                                                             \
  d->activity.start = 86400 + f->src, d->activity.bits[0] = 0x0f0f0f0f00000000ull | f->src, d->activity.bits[1] = 0x8000000000000001ull; \
  want(f->src, "desc", "activityBitmap", "a:%" PRIu64 "/%016" PRIx64 "%016" PRIx64, d->activity.start, d->activity.bits[1], d->activity.bits[0])
#define TCP_MODERN                                                                                         \
  N("ifindex", ifindex, f->ifindex), N("state", state, f->state), N("sndbufsize", sndbuf, f->sndbuf);      \
  N("sndbufused", sndbuf_used, f->sndbuf_used), N("rcvbufsize", rcvbuf, f->rcvbuf);                        \
  N("rcvbufused", rcvbuf_used, f->rcvbuf_used), N("txunacked", unacked, f->unacked);                       \
  N("txwindow", txwin, f->txwin), N("txcwindow", cwin, f->cwin), N("trafficClass", tclass, f->tclass);     \
  N("trafficMgtFlags", tmgt, f->tmgt), N("pid", pid, f->pid), N("epid", e_pid, f->e_pid);                  \
  put_endpoint(f, &d->local, 1), put_endpoint(f, &d->remote, 0);                                           \
  S("ccAlgo", cc, f->cc), S("pname", name, f->name), U("uuid", uuid, f->uuid), U("euuid", e_uuid, f->e_uuid); \
  U("vuuid", v_uuid, f->v_uuid)
#define UDP_MODERN                                                                                         \
  put_endpoint(f, &d->local, 1), put_endpoint(f, &d->remote, 0);                                           \
  N("ifindex", ifindex, f->ifindex), N("rcvbufsize", rcvbuf, f->rcvbuf), N("rcvbufused", rcvbuf_used, f->rcvbuf_used); \
  N("trafficClass", tclass, f->tclass), N("pid", pid, f->pid), S("pname", name, f->name), N("epid", e_pid, f->e_pid); \
  U("uuid", uuid, f->uuid), U("euuid", e_uuid, f->e_uuid), U("vuuid", v_uuid, f->v_uuid)

static size_t tcp_desc(int layout, const flow_t *f, uint8_t *out) {
#define BEGIN(T) T *d = (T *)out; memset(out, 0, sizeof(T))
  switch (layout) {
  case 1699: { BEGIN(tcp_1699_t); TCP_BASE; return sizeof *d; }
  case 2050: { BEGIN(tcp_2050_t); TCP_BASE; N("trafficClass", tclass, f->tclass); return sizeof *d; }
  case 2422: { BEGIN(tcp_2422_t); TCP_BASE; N("trafficClass", tclass, f->tclass); WHO_EFFECTIVE; return sizeof *d; }
  case 2782: {
    BEGIN(tcp_2782_t); TCP_BASE; N("trafficClass", tclass, f->tclass); WHO_EFFECTIVE;
    N("trafficMgtFlags", tmgt, f->tmgt), S("ccAlgo", cc, f->cc), U("vuuid", v_uuid, f->v_uuid);
    return sizeof *d;
  }
  case 3247: {
    BEGIN(tcp_3247_t); TCP_BASE; N("trafficClass", tclass, f->tclass); WHO_EFFECTIVE;
    N("trafficMgtFlags", tmgt, f->tmgt), S("ccAlgo", cc, f->cc), U("vuuid", v_uuid, f->v_uuid);
    N("connstatus", probes, f->probes), N("ifnetProperties", ifprops, (uint16_t)f->ifprops);
    return sizeof *d;
  }
  case 4570: { BEGIN(tcp_4570_t); MODERN_HEAD; TCP_MODERN; N("connstatus", probes, f->probes), N("ifnetProperties", ifprops, (uint16_t)f->ifprops); return sizeof *d; }
  case 7195: {
    BEGIN(tcp_7195_t); MODERN_HEAD; TCP_MODERN; N("rxTransferSize", rx_xfer, 0), N("txTransferSize", tx_xfer, 0);
    U("fuuid", f_uuid, f->f_uuid), N("connstatus", probes, f->probes), N("ifnetProperties", ifprops, (uint16_t)f->ifprops);
    return sizeof *d;
  }
  case 8019: {
    BEGIN(tcp_8019_t); MODERN_HEAD; TCP_MODERN; N("rxTransferSize", rx_xfer, 0), N("txTransferSize", tx_xfer, 0);
    U("fuuid", f_uuid, f->f_uuid), N("connstatus", probes, f->probes), N("ifnetProperties", ifprops, f->ifprops);
    N("fallbackMode", fallback, f->fallback);
    return sizeof *d;
  }
  case 10002: {
    BEGIN(tcp_10002_t); MODERN_HEAD; TCP_MODERN; N("rxTransferSize", rx_xfer, 0), N("txTransferSize", tx_xfer, 0);
    U("fuuid", f_uuid, f->f_uuid), N("personaId", persona, f->persona), N("uid", uid, f->uid);
    N("connstatus", probes, f->probes), N("ifnetProperties", ifprops, f->ifprops), N("fallbackMode", fallback, f->fallback);
    return sizeof *d;
  }
  }
  return 0;
}

static size_t udp_desc(int layout, const flow_t *f, uint8_t *out) {
  switch (layout) {
  case 1699: { BEGIN(udp_1699_t); UDP_BASE; return sizeof *d; }
  case 2050: { BEGIN(udp_2050_t); UDP_BASE; N("trafficClass", tclass, f->tclass); return sizeof *d; }
  case 2422: { BEGIN(udp_2422_t); UDP_BASE; N("trafficClass", tclass, f->tclass); WHO_EFFECTIVE; return sizeof *d; }
  case 2782: { BEGIN(udp_2782_t); UDP_BASE; N("trafficClass", tclass, f->tclass); WHO_EFFECTIVE; U("vuuid", v_uuid, f->v_uuid); return sizeof *d; }
  case 3247: {
    BEGIN(udp_3247_t); UDP_BASE; N("trafficClass", tclass, f->tclass); WHO_EFFECTIVE; U("vuuid", v_uuid, f->v_uuid);
    N("ifnetProperties", ifprops, (uint16_t)f->ifprops);
    return sizeof *d;
  }
  case 4570: { BEGIN(udp_4570_t); MODERN_HEAD; UDP_MODERN; N("ifnetProperties", ifprops, (uint16_t)f->ifprops); return sizeof *d; }
  case 7195: { BEGIN(udp_7195_t); MODERN_HEAD; UDP_MODERN; U("fuuid", f_uuid, f->f_uuid), N("ifnetProperties", ifprops, (uint16_t)f->ifprops); return sizeof *d; }
  case 8019: {
    BEGIN(udp_8019_t); MODERN_HEAD; UDP_MODERN; U("fuuid", f_uuid, f->f_uuid), N("ifnetProperties", ifprops, f->ifprops);
    N("fallbackMode", fallback, f->fallback);
    return sizeof *d;
  }
  case 10002: {
    BEGIN(udp_10002_t); MODERN_HEAD; UDP_MODERN; U("fuuid", f_uuid, f->f_uuid), N("personaId", persona, f->persona);
    N("uid", uid, f->uid), N("ifnetProperties", ifprops, f->ifprops), N("fallbackMode", fallback, f->fallback);
    return sizeof *d;
  }
  }
  return 0;
#undef BEGIN
}

/* ---------------------------------------------------------------- counters */

#define C(key, field, value) ((c)->field = (value), want(f->src, "counts", key, "n:%" PRIu64, (uint64_t)(c)->field))
#define COUNTS_CORE                                                                                        \
  C("rxPackets", rx_pk, t->rx_pk), C("rxBytes", rx_b, t->rx_b), C("txPackets", tx_pk, t->tx_pk);          \
  C("txBytes", tx_b, t->tx_b), C("rxDuplicateBytes", dup_b, t->dup_b), C("rxOutOfOrderBytes", ooo_b, t->ooo_b); \
  C("txRetransmit", rexmit_b, t->rexmit_b), C("connectAttempts", conn_tries, t->conn_tries);               \
  C("connectSuccesses", conn_ok, t->conn_ok), C("minRtt", rtt_min, t->rtt_min);                            \
  C("avgRtt", rtt_avg, t->rtt_avg), C("varRtt", rtt_var, t->rtt_var)
#define MEDIA                                                                                              \
  C("cellRxBytes", cell_rx, t->cell_rx), C("cellTxBytes", cell_tx, t->cell_tx);                           \
  C("wifiRxBytes", wifi_rx, t->wifi_rx), C("wifiTxBytes", wifi_tx, t->wifi_tx)
#define WIRED C("wiredRxBytes", wired_rx, t->wired_rx), C("wiredTxBytes", wired_tx, t->wired_tx)

/* kind: 64, 96, 112 (old order) or 113 (10.13 order). */
static size_t counts(int kind, const flow_t *f, uint8_t *out) {
  const tally_t *t = &f->t;
  switch (kind) {
  case 64: { counts64_t *c = (counts64_t *)out; memset(c, 0, sizeof *c); COUNTS_CORE; return sizeof *c; }
  case 96: {
    counts96_t *w = (counts96_t *)out; memset(w, 0, sizeof *w);
    { counts64_t *c = &w->base; COUNTS_CORE; }
    { counts96_t *c = w; MEDIA; }
    return sizeof *w;
  }
  case 112: {
    counts112_old_t *w = (counts112_old_t *)out; memset(w, 0, sizeof *w);
    { counts64_t *c = &w->base; COUNTS_CORE; }
    { counts112_old_t *c = w; MEDIA; WIRED; }
    return sizeof *w;
  }
  case 113: { counts112_t *c = (counts112_t *)out; memset(c, 0, sizeof *c); COUNTS_CORE; MEDIA; WIRED; return sizeof *c; }
  }
  return 0;
}

/* ---------------------------------------------------------------- families and messages */

typedef struct {
  const char *name, *xnu;
  int msgs;               /* 10 (10.7-10.10), 11, 12, 13 (10.13 on) */
  int tcp, udp, cnt;      /* descriptor layouts and counts kind */
  uint32_t tcp_id, udp_id;
  int userland;           /* 0: the header has no userland providers; 1: ENOENT (not registered); 2: registered */
  int lock_yield;         /* macOS 15: the first GET_UPDATE chunk ends after 5 sources (BEHAVIOUR.md §2.6) */
} family_t;

static const family_t FAMILIES[] = {
  {"d1699", "1699.22.73", 10, 1699, 1699, 64, 2, 3, 0, 0},
  {"d2050", "2050.7.9", 10, 2050, 2050, 64, 2, 3, 0, 0},
  {"d2422", "2422.1.72", 10, 2422, 2422, 96, 2, 3, 0, 0},
  {"d2782", "2782.1.97", 10, 2782, 2782, 112, 2, 3, 0, 0},
  {"d3247", "3247.1.106", 11, 3247, 3247, 112, 2, 3, 0, 0},
  {"d3789", "3789.1.32", 12, 3247, 3247, 112, 2, 4, 2, 0},
  {"d4570", "4570.1.46", 13, 4570, 4570, 113, 2, 4, 1, 0},
  {"d7195", "7195.50.7.100.1", 13, 7195, 7195, 113, 2, 4, 1, 0},
  {"d8019", "8019.41.5", 13, 8019, 8019, 113, 2, 4, 2, 0},
  {"d8019_61", "8019.61.5", 13, 8019, 8019, 113, 2, 4, 2, 0},
  {"d10002", "11215.61.5", 13, 10002, 10002, 113, 2, 4, 2, 1},
};

static const family_t *fam;
static uint8_t body[1024];

static uint32_t provider_of(const flow_t *f) { return f->udp ? fam->udp_id : fam->tcp_id; }
static size_t descriptor(const flow_t *f) {
  return f->udp ? udp_desc(fam->udp, f, body) : tcp_desc(fam->tcp, f, body);
}

/* Set the header: old headers have no length/flags (spare stays 0). */
#define HEAD_OLD(m, t) ((m).h.type = (t))
#define HEAD(m, t, len, fl) ((m).h.type = (t), (m).h.length = (uint16_t)(len), (m).h.flags = (fl))

static void m_success(int reply, uint64_t ctx, uint16_t flags) {
  if (fam->msgs == 10) { head_old_t h = {.context = ctx, .type = T_SUCCESS}; msg(reply, &h, sizeof h, 0, 0); return; }
  head_t h = {.context = ctx, .type = T_SUCCESS, .length = sizeof h, .flags = flags};
  msg(reply, &h, sizeof h, 0, 0);
}

static void m_error(int reply, uint64_t ctx, uint32_t err) {
  switch (fam->msgs) {
  case 10: { old_error_t m = {.h.context = ctx, .err = err}; HEAD_OLD(m, T_ERROR); msg(reply, &m, sizeof m, 0, 0); break; }
  case 11: { m11_error_t m = {.h.context = ctx, .err = err}; HEAD(m, T_ERROR, sizeof m, 0); msg(reply, &m, sizeof m, 0, 0); break; }
  case 12: { m12_error_t m = {.h.context = ctx, .err = err}; HEAD(m, T_ERROR, sizeof m, 0); msg(reply, &m, sizeof m, 0, 0); break; }
  default: { m13_error_t m = {.h.context = ctx, .err = err}; HEAD(m, T_ERROR, sizeof m, 0); msg(reply, &m, sizeof m, 0, 0); break; }
  }
}

static void m_added(const flow_t *f) {
  switch (fam->msgs) {
  case 10: { old_added_t m = {.provider = provider_of(f), .src = (uint32_t)f->src}; HEAD_OLD(m, T_ADDED); msg(0, &m, sizeof m, 0, 0); break; }
  case 11: { m11_added_t m = {.provider = provider_of(f), .src = (uint32_t)f->src}; HEAD(m, T_ADDED, sizeof m, 0); msg(0, &m, sizeof m, 0, 0); break; }
  case 12: { m12_added_t m = {.provider = provider_of(f), .src = f->src}; HEAD(m, T_ADDED, sizeof m, 0); msg(0, &m, sizeof m, 0, 0); break; }
  default: { m13_added_t m = {.provider = provider_of(f), .src = f->src}; HEAD(m, T_ADDED, sizeof m, 0); msg(0, &m, sizeof m, 0, 0); break; }
  }
}

static void m_removed(const flow_t *f) {
  switch (fam->msgs) {
  case 10: { old_removed_t m = {.src = (uint32_t)f->src}; HEAD_OLD(m, T_REMOVED); msg(0, &m, sizeof m, 0, 0); break; }
  case 11: { m11_removed_t m = {.src = (uint32_t)f->src}; HEAD(m, T_REMOVED, sizeof m, 0); msg(0, &m, sizeof m, 0, 0); break; }
  case 12: { m12_removed_t m = {.src = f->src}; HEAD(m, T_REMOVED, sizeof m, 0); msg(0, &m, sizeof m, 0, 0); break; }
  default: { m13_removed_t m = {.src = f->src}; HEAD(m, T_REMOVED, sizeof m, 0); msg(0, &m, sizeof m, 0, 0); break; }
  }
}

static void m_counts(int reply, uint64_t ctx, const flow_t *f, uint16_t flags) {
  uint8_t c[112];
  size_t cn = counts(fam->cnt, f, c);
  switch (fam->msgs) {
  case 10: { old_counts_head_t m = {.h.context = ctx, .src = (uint32_t)f->src}; HEAD_OLD(m, T_COUNTS); msg(reply, &m, sizeof m, c, cn); break; }
  case 11: { m11_counts_t m = {.h.context = ctx, .src = (uint32_t)f->src}; memcpy(&m.c, c, cn); HEAD(m, T_COUNTS, sizeof m, flags); msg(reply, &m, sizeof m, 0, 0); break; }
  case 12: { m12_counts_t m = {.h.context = ctx, .src = f->src}; memcpy(&m.c, c, cn); HEAD(m, T_COUNTS, sizeof m, flags); msg(reply, &m, sizeof m, 0, 0); break; }
  default: { m13_counts_t m = {.h.context = ctx, .src = f->src}; memcpy(&m.c, c, cn); HEAD(m, T_COUNTS, sizeof m, flags); msg(reply, &m, sizeof m, 0, 0); break; }
  }
}

static void m_desc(int reply, uint64_t ctx, const flow_t *f, uint16_t flags) {
  size_t dn = descriptor(f);
  switch (fam->msgs) {
  case 10: { old_desc_head_t m = {.h.context = ctx, .src = (uint32_t)f->src, .provider = provider_of(f)}; HEAD_OLD(m, T_DESC); msg(reply, &m, sizeof m, body, dn); break; }
  case 11: { m11_desc_head_t m = {.h.context = ctx, .src = (uint32_t)f->src, .provider = provider_of(f)}; HEAD(m, T_DESC, sizeof m + dn, flags); msg(reply, &m, sizeof m, body, dn); break; }
  case 12: { m12_desc_head_t m = {.h.context = ctx, .src = f->src, .provider = provider_of(f)}; HEAD(m, T_DESC, sizeof m + dn, flags); msg(reply, &m, sizeof m, body, dn); break; }
  default: { m13_desc_head_t m = {.h.context = ctx, .src = f->src, .provider = provider_of(f)}; HEAD(m, T_DESC, sizeof m + dn, flags); msg(reply, &m, sizeof m, body, dn); break; }
  }
}

static void m_update(int reply, uint64_t ctx, const flow_t *f, uint16_t flags) {
  uint8_t c[112];
  size_t cn = counts(fam->cnt, f, c);
  size_t dn = descriptor(f);
  switch (fam->msgs) {
  case 11: { m11_update_head_t m = {.h.context = ctx, .src = (uint32_t)f->src, .provider = provider_of(f)}; memcpy(&m.c, c, cn); HEAD(m, T_UPDATE, sizeof m + dn, flags); msg(reply, &m, sizeof m, body, dn); break; }
  case 12: { m12_update_head_t m = {.h.context = ctx, .src = f->src, .provider = provider_of(f)}; memcpy(&m.c, c, cn); HEAD(m, T_UPDATE, sizeof m + dn, flags); msg(reply, &m, sizeof m, body, dn); break; }
  default: { m13_update_head_t m = {.h.context = ctx, .src = f->src, .provider = provider_of(f)}; memcpy(&m.c, c, cn); HEAD(m, T_UPDATE, sizeof m + dn, flags); msg(reply, &m, sizeof m, body, dn); break; }
  }
}

/* ---------------------------------------------------------------- sessions */

static void end_rec(void) { rec_end(), flush_wants(); }

/* The sources a poll reports, newest first (BEHAVIOUR.md §2.6), skipping the one that left. */
static int live(int i, int gone) { return !(gone && world[i].src == 2); }

static void active_session(void) {
  int old = fam->msgs == 10;
  int poll = 0;
  printf("session active\n");
  make_world();
  /* Subscription. 10.11 on: SUPPRESS_SRC_ADDED, so only the SUCCESS (§2.3). Before: the walk's SRC_ADDEDs. */
  uint32_t ids[4] = {fam->tcp_id, fam->udp_id, 3, 5};
  for (int k = 0; k < (fam->userland ? 4 : 2); k++) {
    printf("on addall %u\n", ids[k]);
    if (k < 2) {
      if (old) for (int i = 0; i < 5; i++) if (world[i].udp == (k == 1)) rec_begin(), m_added(&world[i]), end_rec();
      rec_begin(), m_success(1, 0, 0), end_rec();
    } else {
      rec_begin();
      if (fam->userland == 2) m_success(1, 0, 0); else m_error(1, 0, ENOENT_);
      end_rec();
    }
  }
  for (int sweep = 0; sweep < 2; sweep++) {
    if (sweep == 1) advance_world();
    if (old) {
      /* Before 10.11 a sweep is GET_SRC_DESC(ALL) then QUERY_SRC(ALL), one message per record (§2.6). */
      printf("on poll %d %d\n", ++poll, T_GET_DESC);
      if (sweep == 1) { /* Safari's goodbye, not in update mode (§3.2): counts, desc, removed */
        rec_begin(), m_counts(0, 0, &world[1], 0), end_rec();
        rec_begin(), m_desc(0, 0, &world[1], 0), end_rec();
        rec_begin(), m_removed(&world[1]), end_rec();
      }
      for (int i = 4; i >= 0; i--) if (live(i, sweep)) rec_begin(), m_desc(1, 0, &world[i], 0), end_rec();
      rec_begin(), m_success(1, 0, 0), end_rec();
      printf("on poll %d %d\n", ++poll, T_QUERY);
      for (int i = 4; i >= 0; i--) if (live(i, sweep)) rec_begin(), m_counts(1, 0, &world[i], 0), end_rec();
      rec_begin(), m_success(1, 0, 0), end_rec();
      continue;
    }
    /* 10.11 on: GET_UPDATE(ALL) with CONTINUATION, aggregated (context 0) then SUCCESS (§2.6). */
    printf("on poll %d %d\n", ++poll, T_GET_UPDATE);
    if (sweep == 1) { /* update mode goodbye: SRC_UPDATE with CLOSING, then SRC_REMOVED (§3.2) */
      rec_begin(), m_update(0, 0, &world[1], F_CLOSING), end_rec();
      rec_begin(), m_removed(&world[1]), end_rec();
    }
    rec_begin();
    for (int i = 4; i >= 0; i--) if (live(i, sweep)) m_update(0, 0, &world[i], 0);
    end_rec();
    if (fam->lock_yield && sweep == 0) {
      /* macOS 15: the lock yielded after 5 sources: "more", then an empty final chunk (13+). */
      rec_begin(), m_success(1, 0, F_CONTINUATION), end_rec();
      printf("on poll %d %d\n", ++poll, T_GET_UPDATE);
    }
    rec_begin(), m_success(1, 0, 0), end_rec();
  }
}

/* A recording of a subscriber that keeps SRC_ADDED and polls counts and descriptors (libntstat's way). */
static void passive_session(void) {
  int old = fam->msgs == 10;
  uint16_t agg = 0;
  printf("session passive\n");
  make_world();
  advance_world(); /* curl established, with data */
  world[1].state = 4;
  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < 5; i++) if (world[i].udp == (k == 1)) rec_begin(), m_added(&world[i]), end_rec();
    rec_begin(), m_success(0, 0x101 + (uint64_t)k, 0), end_rec();
  }
  /* QUERY_SRC(ALL) then GET_SRC_DESC(ALL): aggregated from 10.11 (SUPPORTS_AGGREGATE), else one per record. */
  if (old) {
    for (int i = 4; i >= 0; i--) rec_begin(), m_counts(0, 0x103, &world[i], agg), end_rec();
  } else {
    rec_begin();
    for (int i = 4; i >= 0; i--) m_counts(0, 0, &world[i], agg);
    end_rec();
  }
  rec_begin(), m_success(0, 0x103, 0), end_rec();
  if (old) {
    for (int i = 4; i >= 0; i--) rec_begin(), m_desc(0, 0x104, &world[i], agg), end_rec();
  } else {
    rec_begin();
    for (int i = 4; i >= 0; i--) m_desc(0, 0, &world[i], agg);
    end_rec();
  }
  rec_begin(), m_success(0, 0x104, 0), end_rec();
  /* The subscriber asked for a provider this kernel lacks: a bare ERROR for its context. */
  rec_begin(), m_error(0, 0x105, ENOTSUP_), end_rec();
  /* Safari's goodbye in non-update mode: SRC_COUNTS and SRC_DESC with CLOSING (11+), SRC_REMOVED (§3.2). */
  world[1].state = 10;
  world[1].t.rx_pk = 75, world[1].t.rx_b = 91000, world[1].t.wired_rx = 81000;
  rec_begin(), m_counts(0, 0, &world[1], old ? 0 : F_CLOSING), end_rec();
  rec_begin(), m_desc(0, 0, &world[1], old ? 0 : F_CLOSING), end_rec();
  rec_begin(), m_removed(&world[1]), end_rec();
}

int main(void) {
  printf("# generated by test/vectors/make-vectors.c: do not edit\n");
  for (size_t i = 0; i < sizeof FAMILIES / sizeof FAMILIES[0]; i++) {
    fam = &FAMILIES[i];
    printf("family %s xnu=%s\n", fam->name, fam->xnu);
    switch (fam->msgs) {
    case 10: printf("request addall %zu %zu\nrequest poll %zu\n", sizeof(old_add_all_t), offsetof(old_add_all_t, provider), sizeof(old_poll_t)); break;
    case 11: printf("request addall %zu %zu\nrequest poll %zu\n", sizeof(m11_add_all_t), offsetof(m11_add_all_t, provider), sizeof(m11_poll_t)); break;
    case 12: printf("request addall %zu %zu\nrequest poll %zu\n", sizeof(m12_add_all_t), offsetof(m12_add_all_t, provider), sizeof(m12_poll_t)); break;
    default: printf("request addall %zu %zu\nrequest poll %zu\n", sizeof(m13_add_all_t), offsetof(m13_add_all_t, provider), sizeof(m13_poll_t)); break;
    }
    active_session();
    passive_session();
    printf("end\n");
  }
  return 0;
}
