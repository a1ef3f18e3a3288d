/*
 * Wire structures of the com.apple.network.statistics control, one set per dialect family, written
 * for ntstat's independent test vectors (issue 13 §4). Field order comes from reading each XNU tag's
 * bsd/net/ntstat.h (and BEHAVIOUR.md Appendix A); every size and most offsets are pinned with
 * _Static_assert to the numbers of shared/xnu/LAYOUTS.md and ntstat-layouts.json. Names are ours.
 * Nothing here is shared with src/: if the TypeScript tables move a field, the vectors disagree.
 *
 * Families (LAYOUTS.md "Dialects"): d1699 10.7, d2050 10.8, d2422 10.9, d2782 10.10, d3247 10.11,
 * d3789 10.12, d4570 10.13-10.15, d7195 11, d8019 12.0, d8019_61 12.1-13, d10002 14-15 (and macOS 26,
 * whose structs REAL-CAPTURES.md §2 reports unchanged).
 */
#ifndef NTSTAT_TEST_LAYOUTS_H
#define NTSTAT_TEST_LAYOUTS_H
#include <stddef.h>
#include <stdint.h>

#define CHECK_SIZE(T, n) _Static_assert(sizeof(T) == (n), #T " must be " #n " bytes")
#define CHECK_AT(T, f, n) _Static_assert(offsetof(T, f) == (n), #T "." #f " must sit at " #n)

/* BSD sockaddrs: byte 0 length, byte 1 family (AF_INET 2, Darwin AF_INET6 30), port big-endian. */
typedef struct { uint8_t len, family; uint8_t port[2]; uint8_t addr[4]; uint8_t zero[8]; } in4_addr_t;
typedef struct { uint8_t len, family; uint8_t port[2]; uint32_t flowinfo; uint8_t addr[16]; uint32_t scope; } in6_addr_t;
typedef union { in4_addr_t v4; in6_addr_t v6; } endpoint_t;
CHECK_SIZE(in4_addr_t, 16);
CHECK_SIZE(in6_addr_t, 28);
CHECK_SIZE(endpoint_t, 28);

/* activity bitmap (10.13+): uptime seconds of the first bit, then 128 bits, 8 s each. */
typedef struct { uint64_t start; uint64_t bits[2]; } activity_t;
CHECK_SIZE(activity_t, 24);

/* Message header: 10.7-10.10 end in a spare u32; 10.11 on carry the length and flags there. */
typedef struct { uint64_t context; uint32_t type; uint32_t spare; } head_old_t;
typedef struct { uint64_t context; uint32_t type; uint16_t length; uint16_t flags; } head_t;
CHECK_SIZE(head_old_t, 16);
CHECK_SIZE(head_t, 16);
CHECK_AT(head_t, length, 12);
CHECK_AT(head_t, flags, 14);

/* ============ 10.7 .. 10.12: the header is packed to 4 bytes (u64 fields 4-aligned) ============ */
#pragma pack(push, 4)

/* Counters, old order: totals, then the eight u32, then per-medium bytes (10.9: cell/wifi; 10.10: +wired). */
typedef struct {
  uint64_t rx_pk, rx_b, tx_pk, tx_b;
  uint32_t dup_b, ooo_b, rexmit_b, conn_tries, conn_ok, rtt_min, rtt_avg, rtt_var;
} counts64_t;
typedef struct { counts64_t base; uint64_t cell_rx, cell_tx, wifi_rx, wifi_tx; } counts96_t;
typedef struct { counts64_t base; uint64_t cell_rx, cell_tx, wifi_rx, wifi_tx, wired_rx, wired_tx; } counts112_old_t;
CHECK_SIZE(counts64_t, 64);
CHECK_SIZE(counts96_t, 96);
CHECK_SIZE(counts112_old_t, 112);
CHECK_AT(counts64_t, dup_b, 32);
CHECK_AT(counts64_t, rtt_var, 60);
CHECK_AT(counts112_old_t, cell_rx, 64);
CHECK_AT(counts112_old_t, wired_tx, 104);

/* TCP, 10.7: addresses first, then socket buffers, then who. */
typedef struct {
  endpoint_t local, remote;
  uint32_t ifindex, state, sndbuf, sndbuf_used, rcvbuf, rcvbuf_used, unacked, txwin, cwin;
  uint64_t upid;
  uint32_t pid;
  char name[64];
} tcp_1699_t;
CHECK_SIZE(tcp_1699_t, 168);
CHECK_AT(tcp_1699_t, upid, 92);
CHECK_AT(tcp_1699_t, name, 104);

/* 10.8: traffic class after the congestion window. */
typedef struct {
  endpoint_t local, remote;
  uint32_t ifindex, state, sndbuf, sndbuf_used, rcvbuf, rcvbuf_used, unacked, txwin, cwin, tclass;
  uint64_t upid;
  uint32_t pid;
  char name[64];
} tcp_2050_t;
CHECK_SIZE(tcp_2050_t, 172);
CHECK_AT(tcp_2050_t, upid, 96);

/* 10.9: + the effective (delegate) process and both executable UUIDs. */
typedef struct {
  endpoint_t local, remote;
  uint32_t ifindex, state, sndbuf, sndbuf_used, rcvbuf, rcvbuf_used, unacked, txwin, cwin, tclass;
  uint64_t upid;
  uint32_t pid;
  char name[64];
  uint64_t e_upid;
  uint32_t e_pid;
  uint8_t uuid[16], e_uuid[16];
} tcp_2422_t;
CHECK_SIZE(tcp_2422_t, 216);
CHECK_AT(tcp_2422_t, e_upid, 172);
CHECK_AT(tcp_2422_t, uuid, 184);

/* 10.10: + traffic management flags, congestion algorithm, voucher UUID. */
typedef struct {
  endpoint_t local, remote;
  uint32_t ifindex, state, sndbuf, sndbuf_used, rcvbuf, rcvbuf_used, unacked, txwin, cwin, tclass, tmgt;
  char cc[16];
  uint64_t upid;
  uint32_t pid;
  char name[64];
  uint64_t e_upid;
  uint32_t e_pid;
  uint8_t uuid[16], e_uuid[16], v_uuid[16];
} tcp_2782_t;
CHECK_SIZE(tcp_2782_t, 252);
CHECK_AT(tcp_2782_t, cc, 100);
CHECK_AT(tcp_2782_t, upid, 116);
CHECK_AT(tcp_2782_t, e_upid, 192);
CHECK_AT(tcp_2782_t, v_uuid, 236);

/* 10.11 and 10.12 (BEHAVIOUR.md A.4 "TCP 11/12"): + probe status and interface properties (u16, 4-aligned). */
typedef struct {
  endpoint_t local, remote;
  uint32_t ifindex, state, sndbuf, sndbuf_used, rcvbuf, rcvbuf_used, unacked, txwin, cwin, tclass, tmgt;
  char cc[16];
  uint64_t upid;
  uint32_t pid;
  char name[64];
  uint64_t e_upid;
  uint32_t e_pid;
  uint8_t uuid[16], e_uuid[16], v_uuid[16];
  uint32_t probes;
  uint16_t ifprops;
  uint16_t unused;
} tcp_3247_t;
CHECK_SIZE(tcp_3247_t, 260);
CHECK_AT(tcp_3247_t, pid, 124);
CHECK_AT(tcp_3247_t, name, 128);
CHECK_AT(tcp_3247_t, probes, 252);
CHECK_AT(tcp_3247_t, ifprops, 256);

/* UDP, 10.7 .. 10.12: the same growth without the TCP fields. */
typedef struct {
  endpoint_t local, remote;
  uint32_t ifindex, rcvbuf, rcvbuf_used;
  uint64_t upid;
  uint32_t pid;
  char name[64];
} udp_1699_t;
typedef struct {
  endpoint_t local, remote;
  uint32_t ifindex, rcvbuf, rcvbuf_used, tclass;
  uint64_t upid;
  uint32_t pid;
  char name[64];
} udp_2050_t;
typedef struct {
  endpoint_t local, remote;
  uint32_t ifindex, rcvbuf, rcvbuf_used, tclass;
  uint64_t upid;
  uint32_t pid;
  char name[64];
  uint64_t e_upid;
  uint32_t e_pid;
  uint8_t uuid[16], e_uuid[16];
} udp_2422_t;
typedef struct {
  endpoint_t local, remote;
  uint32_t ifindex, rcvbuf, rcvbuf_used, tclass;
  uint64_t upid;
  uint32_t pid;
  char name[64];
  uint64_t e_upid;
  uint32_t e_pid;
  uint8_t uuid[16], e_uuid[16], v_uuid[16];
} udp_2782_t;
typedef struct {
  endpoint_t local, remote;
  uint32_t ifindex, rcvbuf, rcvbuf_used, tclass;
  uint64_t upid;
  uint32_t pid;
  char name[64];
  uint64_t e_upid;
  uint32_t e_pid;
  uint8_t uuid[16], e_uuid[16], v_uuid[16];
  uint16_t ifprops;
} udp_3247_t;
CHECK_SIZE(udp_1699_t, 144);
CHECK_AT(udp_1699_t, upid, 68);
CHECK_SIZE(udp_2050_t, 148);
CHECK_SIZE(udp_2422_t, 192);
CHECK_SIZE(udp_2782_t, 208);
CHECK_SIZE(udp_3247_t, 212);
CHECK_AT(udp_3247_t, pid, 80);
CHECK_AT(udp_3247_t, name, 84);
CHECK_AT(udp_3247_t, e_upid, 148);
CHECK_AT(udp_3247_t, e_pid, 156);
CHECK_AT(udp_3247_t, v_uuid, 192);
CHECK_AT(udp_3247_t, ifprops, 208);

/* Messages 10.7-10.10 (spare u32 in the header, 32-bit srcref). Descriptors/counts follow the heads. */
typedef struct { head_old_t h; uint32_t err; } old_error_t;
typedef struct { head_old_t h; uint32_t provider; uint32_t src; } old_added_t;
typedef struct { head_old_t h; uint32_t src; } old_removed_t;
typedef struct { head_old_t h; uint32_t src; } old_counts_head_t;
typedef struct { head_old_t h; uint32_t src; uint32_t provider; } old_desc_head_t;
typedef struct { head_old_t h; uint32_t provider; } old_add_all_t;
typedef struct { head_old_t h; uint32_t src; } old_poll_t;
CHECK_SIZE(old_error_t, 20);
CHECK_SIZE(old_added_t, 24);
CHECK_SIZE(old_removed_t, 20);
CHECK_SIZE(old_counts_head_t, 20);
CHECK_SIZE(old_desc_head_t, 24);
CHECK_SIZE(old_add_all_t, 20);
CHECK_SIZE(old_poll_t, 20);

/* 10.11: length/flags in the header, still a 32-bit srcref; ADD_ALL gains a filter; SRC_UPDATE. */
typedef struct { head_t h; uint32_t err; } m11_error_t;
typedef struct { head_t h; uint32_t provider; uint32_t src; } m11_added_t;
typedef struct { head_t h; uint32_t src; } m11_removed_t;
typedef struct { head_t h; uint32_t src; counts112_old_t c; } m11_counts_t;
typedef struct { head_t h; uint32_t src; uint32_t provider; } m11_desc_head_t;
typedef struct { head_t h; uint32_t src; counts112_old_t c; uint32_t provider; } m11_update_head_t;
typedef struct { head_t h; uint32_t provider; uint64_t filter; } m11_add_all_t;
typedef struct { head_t h; uint32_t src; } m11_poll_t;
CHECK_SIZE(m11_error_t, 20);
CHECK_SIZE(m11_added_t, 24);
CHECK_SIZE(m11_removed_t, 20);
CHECK_SIZE(m11_counts_t, 132);
CHECK_SIZE(m11_desc_head_t, 24);
CHECK_SIZE(m11_update_head_t, 136);
CHECK_SIZE(m11_add_all_t, 28);
CHECK_AT(m11_add_all_t, filter, 20);
CHECK_SIZE(m11_poll_t, 20);

/* 10.12: 64-bit srcref and event flags, still packed to 4. */
typedef struct { head_t h; uint32_t err; } m12_error_t;
typedef struct { head_t h; uint32_t provider; uint64_t src; } m12_added_t;
typedef struct { head_t h; uint64_t src; } m12_removed_t;
typedef struct { head_t h; uint64_t src; uint64_t events; counts112_old_t c; } m12_counts_t;
typedef struct { head_t h; uint64_t src; uint64_t events; uint32_t provider; } m12_desc_head_t;
typedef struct { head_t h; uint64_t src; uint64_t events; counts112_old_t c; uint32_t provider; } m12_update_head_t;
typedef struct { head_t h; uint32_t provider; uint64_t filter; uint64_t events; uint32_t target_pid; uint8_t target_uuid[16]; } m12_add_all_t;
typedef struct { head_t h; uint64_t src; } m12_poll_t;
CHECK_SIZE(m12_error_t, 20);
CHECK_SIZE(m12_added_t, 28);
CHECK_AT(m12_added_t, src, 20);
CHECK_SIZE(m12_removed_t, 24);
CHECK_SIZE(m12_counts_t, 144);
CHECK_AT(m12_counts_t, c, 32);
CHECK_SIZE(m12_desc_head_t, 36);
CHECK_SIZE(m12_update_head_t, 148);
CHECK_AT(m12_update_head_t, provider, 144);
CHECK_SIZE(m12_add_all_t, 56);
CHECK_AT(m12_add_all_t, filter, 20);
CHECK_AT(m12_add_all_t, events, 28);
CHECK_SIZE(m12_poll_t, 24);

#pragma pack(pop)

/* ============ 10.13 on: natural alignment, everything re-laid ============ */

/* Counters, new order: six u64 byte counters follow the totals, the eight u32 come last. */
typedef struct {
  uint64_t rx_pk, rx_b, tx_pk, tx_b, cell_rx, cell_tx, wifi_rx, wifi_tx, wired_rx, wired_tx;
  uint32_t dup_b, ooo_b, rexmit_b, conn_tries, conn_ok, rtt_min, rtt_avg, rtt_var;
} counts112_t;
CHECK_SIZE(counts112_t, 112);
CHECK_AT(counts112_t, wired_tx, 72);
CHECK_AT(counts112_t, dup_b, 80);
CHECK_AT(counts112_t, rtt_var, 108);

/* TCP 10.13-10.15 (304). */
typedef struct {
  uint64_t upid, e_upid, started, now;
  activity_t activity;
  uint32_t ifindex, state, sndbuf, sndbuf_used, rcvbuf, rcvbuf_used, unacked, txwin, cwin, tclass, tmgt, pid, e_pid;
  endpoint_t local, remote;
  char cc[16];
  char name[64];
  uint8_t uuid[16], e_uuid[16], v_uuid[16];
  uint32_t probes;
  uint16_t ifprops;
  uint8_t reserved[6];
} tcp_4570_t;
CHECK_SIZE(tcp_4570_t, 304);
CHECK_AT(tcp_4570_t, activity, 32);
CHECK_AT(tcp_4570_t, ifindex, 56);
CHECK_AT(tcp_4570_t, pid, 100);
CHECK_AT(tcp_4570_t, local, 108);
CHECK_AT(tcp_4570_t, remote, 136);
CHECK_AT(tcp_4570_t, cc, 164);
CHECK_AT(tcp_4570_t, name, 180);
CHECK_AT(tcp_4570_t, uuid, 244);
CHECK_AT(tcp_4570_t, probes, 292);
CHECK_AT(tcp_4570_t, ifprops, 296);

/* TCP 11 (336): transfer sizes after the timestamps, flow UUID; properties still u16. */
typedef struct {
  uint64_t upid, e_upid, started, now, rx_xfer, tx_xfer;
  activity_t activity;
  uint32_t ifindex, state, sndbuf, sndbuf_used, rcvbuf, rcvbuf_used, unacked, txwin, cwin, tclass, tmgt, pid, e_pid;
  endpoint_t local, remote;
  char cc[16];
  char name[64];
  uint8_t uuid[16], e_uuid[16], v_uuid[16], f_uuid[16];
  uint32_t probes;
  uint16_t ifprops;
  uint8_t reserved[6];
} tcp_7195_t;
CHECK_SIZE(tcp_7195_t, 336);
CHECK_AT(tcp_7195_t, activity, 48);
CHECK_AT(tcp_7195_t, ifindex, 72);
CHECK_AT(tcp_7195_t, pid, 116);
CHECK_AT(tcp_7195_t, local, 124);
CHECK_AT(tcp_7195_t, remote, 152);
CHECK_AT(tcp_7195_t, cc, 180);
CHECK_AT(tcp_7195_t, name, 196);
CHECK_AT(tcp_7195_t, f_uuid, 308);
CHECK_AT(tcp_7195_t, probes, 324);
CHECK_AT(tcp_7195_t, ifprops, 328);

/* TCP 12.x-13.x (336): properties widened to u32, fallback mode. */
typedef struct {
  uint64_t upid, e_upid, started, now, rx_xfer, tx_xfer;
  activity_t activity;
  uint32_t ifindex, state, sndbuf, sndbuf_used, rcvbuf, rcvbuf_used, unacked, txwin, cwin, tclass, tmgt, pid, e_pid;
  endpoint_t local, remote;
  char cc[16];
  char name[64];
  uint8_t uuid[16], e_uuid[16], v_uuid[16], f_uuid[16];
  uint32_t probes;
  uint32_t ifprops;
  uint8_t fallback;
  uint8_t reserved[3];
} tcp_8019_t;
CHECK_SIZE(tcp_8019_t, 336);
CHECK_AT(tcp_8019_t, ifprops, 328);
CHECK_AT(tcp_8019_t, fallback, 332);

/* TCP 14-15 (344): persona and uid before the probe status. */
typedef struct {
  uint64_t upid, e_upid, started, now, rx_xfer, tx_xfer;
  activity_t activity;
  uint32_t ifindex, state, sndbuf, sndbuf_used, rcvbuf, rcvbuf_used, unacked, txwin, cwin, tclass, tmgt, pid, e_pid;
  endpoint_t local, remote;
  char cc[16];
  char name[64];
  uint8_t uuid[16], e_uuid[16], v_uuid[16], f_uuid[16];
  uint32_t persona, uid;
  uint32_t probes;
  uint32_t ifprops;
  uint8_t fallback;
  uint8_t reserved[3];
} tcp_10002_t;
CHECK_SIZE(tcp_10002_t, 344);
CHECK_AT(tcp_10002_t, persona, 324);
CHECK_AT(tcp_10002_t, uid, 328);
CHECK_AT(tcp_10002_t, probes, 332);
CHECK_AT(tcp_10002_t, ifprops, 336);
CHECK_AT(tcp_10002_t, fallback, 340);

/* UDP 10.13-10.15 (256). */
typedef struct {
  uint64_t upid, e_upid, started, now;
  activity_t activity;
  endpoint_t local, remote;
  uint32_t ifindex, rcvbuf, rcvbuf_used, tclass, pid;
  char name[64];
  uint32_t e_pid;
  uint8_t uuid[16], e_uuid[16], v_uuid[16];
  uint16_t ifprops;
  uint8_t reserved[6];
} udp_4570_t;
CHECK_SIZE(udp_4570_t, 256);
CHECK_AT(udp_4570_t, local, 56);
CHECK_AT(udp_4570_t, remote, 84);
CHECK_AT(udp_4570_t, ifindex, 112);
CHECK_AT(udp_4570_t, pid, 128);
CHECK_AT(udp_4570_t, name, 132);
CHECK_AT(udp_4570_t, e_pid, 196);
CHECK_AT(udp_4570_t, uuid, 200);
CHECK_AT(udp_4570_t, ifprops, 248);

/* UDP 11 (272): + flow UUID. */
typedef struct {
  uint64_t upid, e_upid, started, now;
  activity_t activity;
  endpoint_t local, remote;
  uint32_t ifindex, rcvbuf, rcvbuf_used, tclass, pid;
  char name[64];
  uint32_t e_pid;
  uint8_t uuid[16], e_uuid[16], v_uuid[16], f_uuid[16];
  uint16_t ifprops;
  uint8_t reserved[6];
} udp_7195_t;
CHECK_SIZE(udp_7195_t, 272);
CHECK_AT(udp_7195_t, f_uuid, 248);
CHECK_AT(udp_7195_t, ifprops, 264);

/* UDP 12.x-13.x (272): u32 properties and fallback mode. */
typedef struct {
  uint64_t upid, e_upid, started, now;
  activity_t activity;
  endpoint_t local, remote;
  uint32_t ifindex, rcvbuf, rcvbuf_used, tclass, pid;
  char name[64];
  uint32_t e_pid;
  uint8_t uuid[16], e_uuid[16], v_uuid[16], f_uuid[16];
  uint32_t ifprops;
  uint8_t fallback;
  uint8_t reserved[3];
} udp_8019_t;
CHECK_SIZE(udp_8019_t, 272);
CHECK_AT(udp_8019_t, ifprops, 264);
CHECK_AT(udp_8019_t, fallback, 268);

/* UDP 14-15 (280): persona and uid. */
typedef struct {
  uint64_t upid, e_upid, started, now;
  activity_t activity;
  endpoint_t local, remote;
  uint32_t ifindex, rcvbuf, rcvbuf_used, tclass, pid;
  char name[64];
  uint32_t e_pid;
  uint8_t uuid[16], e_uuid[16], v_uuid[16], f_uuid[16];
  uint32_t persona, uid;
  uint32_t ifprops;
  uint8_t fallback;
  uint8_t reserved[3];
} udp_10002_t;
CHECK_SIZE(udp_10002_t, 280);
CHECK_AT(udp_10002_t, persona, 264);
CHECK_AT(udp_10002_t, uid, 268);
CHECK_AT(udp_10002_t, ifprops, 272);
CHECK_AT(udp_10002_t, fallback, 276);

/* Messages 10.13 on: explicit padding, srcref before provider in SRC_ADDED, filter first in ADD_ALL. */
typedef struct { head_t h; uint32_t err; uint32_t pad; } m13_error_t;
typedef struct { head_t h; uint64_t src; uint32_t provider; uint32_t pad; } m13_added_t;
typedef struct { head_t h; uint64_t src; } m13_removed_t;
typedef struct { head_t h; uint64_t src; uint64_t events; counts112_t c; } m13_counts_t;
typedef struct { head_t h; uint64_t src; uint64_t events; uint32_t provider; uint32_t pad; } m13_desc_head_t;
typedef struct { head_t h; uint64_t src; uint64_t events; counts112_t c; uint32_t provider; uint32_t pad; } m13_update_head_t;
typedef struct { head_t h; uint64_t filter; uint64_t events; uint32_t provider; uint32_t target_pid; uint8_t target_uuid[16]; } m13_add_all_t;
typedef struct { head_t h; uint64_t src; } m13_poll_t;
CHECK_SIZE(m13_error_t, 24);
CHECK_SIZE(m13_added_t, 32);
CHECK_AT(m13_added_t, provider, 24);
CHECK_SIZE(m13_removed_t, 24);
CHECK_SIZE(m13_counts_t, 144);
CHECK_SIZE(m13_desc_head_t, 40);
CHECK_SIZE(m13_update_head_t, 152);
CHECK_AT(m13_update_head_t, provider, 144);
CHECK_SIZE(m13_add_all_t, 56);
CHECK_AT(m13_add_all_t, provider, 32);
CHECK_SIZE(m13_poll_t, 24);

#endif
