/** Help texts, one per command, each with examples. */
export const MAIN_HELP = `ntstat: live per-connection network statistics from the macOS kernel

Usage:
  ntstat [log]        live event log in the libntstat demo format (+ - # @ lines)
  ntstat top          live table sorted by current rate (--by process|app|interface)
  ntstat json         NDJSON events, one per line (same as --json)
  ntstat doctor       OS, kernel version, dialect, providers, privileges
  ntstat replay FILE  replay a recording (ntcap or libntstat)
  ntstat serve --socket PATH   serve a simulated kernel to one --socket client
  ntstat agent        always-on recorder of per-process usage (foreground; Ctrl-C stops)
  ntstat usage        usage history from the agent's database (--by app|process|...)
  ntstat web          the agent with its dashboard in your browser (live and history charts)

Common options:
  --tcp --udp --quic --all   providers to show (default: tcp); --all adds interfaces (ifnet)
  --interval SECONDS         how often counters are polled (default 1)
  --duration SECONDS         stop after this long;  --count N  stop after N events (top: N snapshots)
  --pid N  --process NAME|/RE/  --port N   (--pid and --port may be repeated)
  --interface KIND|NAME      wifi|wired|cellular|loopback|awdl, or a BSD name: en0, utun3
  --csv  --columns a,b,...   CSV output (log, top snapshots) and its columns
  --resolve                  reverse DNS of remote addresses (cached, asynchronous; -n: off)
  --record FILE              also record what the kernel sends (ntcap format)
  --simulate [--xnu V | --macos V] [--scenario NAME] [--seed N]
                             use ntstat's simulated kernel instead of the real one
  --privileged               (--simulate) the client is root/entitled: sysinfo events (--all)
  --future-layout NAME       (--simulate/serve, kernels without published sources, e.g.
                             --xnu 12377.1.9) the simulated kernel changes its layout:
                             appended, inserted, counts-grown, reordered or header
  --socket PATH              speak the protocol over a Unix datagram socket (needs --xnu/--macos)
  --utc  --no-color  --raw   (NO_COLOR is honoured)
  -h, --help   -V, --version

For nettop users (the flags that map cleanly):
  -P        per process            = top --by process
  -L N      N samples, CSV, exit   = top --count N --csv   (-L 0: until stopped)
  -J COLS   columns                = --columns (bytes_in, bytes_out, rtt_avg, interface, state)
  -m MODE   tcp|udp|quic|route     = --tcp / --udp / --quic / --all's route
  -t TYPE   interface type         = --interface (wifi, wired, cellular, loopback)
  -x        exact numbers          = --raw
  -n        no name lookups        (the default; --resolve turns lookups on)
  -s SECS   seconds between samples = --interval

Units: IEC (1 KiB = 1024 B), rates per second. Exit codes: 0 ok, 1 runtime error, 2 usage
error; log, json, top and replay exit 130 after Ctrl-C and 143 after SIGTERM.

Examples:
  ntstat                         watch new TCP connections (macOS)
  ntstat json --all | jq .       every flow as JSON
  ntstat --simulate --macos 14   try it anywhere with a simulated macOS 14 kernel
  ntstat replay capture.bin --format libntstat --xnu 4570.1.46 --json

Run 'ntstat COMMAND --help' for a command's options.
`;

export const COMMAND_HELP: Record<string, string> = {
  replay: `ntstat replay FILE [--format ntcap|libntstat] [--xnu VERSION | --macos VERSION] [--json|--csv] [--speed X]

Replays a recording through the same client logic as a live session.
  --format libntstat   records of u32 LE unix time, u32 LE length, bytes (libntstat's recorder);
                       such files do not say which kernel made them: give --xnu or --macos.
  --format ntcap       ntstat's own capture format (self-describing; no --xnu/--macos)
  --json               NDJSON output instead of the log format
  --speed X            0 (default) = as fast as possible; 1 = real time; 2 = twice as fast
  --utc                print log times in UTC

Examples:
  ntstat replay cap.bin --format libntstat --xnu 3789.1.32
  ntstat replay cap.bin --format libntstat --macos 10.13 --json | jq 'select(.event=="removed")'
`,
  log: `ntstat [log] [options]

Prints the libntstat demo format:
   + 15:23:27 TCP 10.0.20.179 58760 - 52.86.2.3 443 pid:66 (epagd)    (present at start)
  + 15:23:54 TCP ... pid:668 (com.apple.Safari)                        (new)
  @+ 15:23:28 pid:399 (mongod) LISTEN TCP port:27017                   (listener)
  - 15:23:56 TCP ... FAILED                                            (gone)
  # 15:24:22 TCP ...                                                   (counters changed)
    bytes (tx/rx):926/17047  packets:5/314 wifi

Examples:
  ntstat --process Safari
  ntstat --simulate --scenario browser-burst --duration 5
`,
  json: `ntstat json [options]

One JSON object per line (fields: event, time, id, provider, local, remote, pid, process,
counts...). Flushed per line; safe to pipe into head. With --all, interfaces too:
{"event":"interface","change":...,"index":4,"name":"en0","kind":"wifi","link":{...},"rxBytes":...}
(the kernel's ifnet provider: 64-bit per-interface counters; not counted by --count).

Examples:
  ntstat json --all --count 100 > flows.ndjson
  ntstat json --simulate --macos 15 --duration 3

The schema of each line: schema/events.schema.json in the package (JSON Schema 2020-12).
With --resolve, remote.host is the reverse-DNS name when known at the time of the event.
`,
  top: `ntstat top [--by stream|process|app|interface] [--sort KEY] [--reverse] [--raw] [options]

A live full-screen table. Keys: q quit, s change sort, r reverse, g change grouping, p pause,
/ filter (Esc clears), arrows PgUp PgDn Home End scroll. The sorted column is marked ▼ (▲ reversed).
  --sort rate|rx|tx|total|pid|name   (default rate: RX/s + TX/s)
  --once                one complete snapshot and exit (same as --count 1, nettop's -L 1)
  --count N             N snapshots, one per interval, then exit
  --csv [--columns ...] snapshots as CSV
Not a terminal (a pipe): complete plain-text snapshots, nothing cut (COLUMNS sets a width).
The last row is the grand total. FLOWS a/b = open now / seen since start.
--by interface: one row per network interface from the kernel's ifnet provider (its own 64-bit
counters, every packet on the interface, not only the flows ntstat sees): index, name, kind, link,
rates and totals. With net.statistics_privcheck set it needs root (the status line says so).

Examples:
  ntstat top --by process
  ntstat top --by interface --once --simulate
  ntstat top --simulate --scenario idle-laptop
  ntstat -P -L 1 --simulate      one per-process CSV snapshot, as nettop -P -L 1
`,
  serve: `ntstat serve --socket PATH [--xnu V | --macos V] [--scenario NAME] [--seed N] [--duration S]

Serves ntstat's simulated kernel over a Unix datagram socket, to one client, in real time.
Clients connect with --socket PATH and the same --xnu/--macos.

Examples:
  ntstat serve --socket /tmp/nstat.sock --macos 13.5 --scenario browser-burst &
  ntstat json --socket /tmp/nstat.sock --macos 13.5 --duration 3
`,
  usage: `ntstat usage [--db PATH] [--since T] [--until T] [--by app|process|pid|interface|day|hour] [--top N] [--json|--csv]
       ntstat usage --flows [--db PATH] [--since T] [--until T] [--process P] [--app P] [--top N] [--json|--csv]

Totals from the agent's database, largest first (day/hour: in time order); works while the agent runs.
  T: 90m, 1h, 24h, 7d, today, yesterday (local midnight), now, or an ISO date/time.
  Default: --since today --until now --by app.  --json: one object per line, exact numbers.
--flows: closed flows from the flow log (the newest 50 000 are kept: --flow-log N on the agent),
  those open at some time in [since, until): start, end, duration, process, app, provider,
  endpoints, interface, rx/tx totals. Newest first (by end); --top N: the N largest (rx + tx),
  largest first. --process/--app P: substring or /regexp/. Text times are UTC.

Examples:
  ntstat usage --since 7d --by process --top 10
  ntstat usage --since yesterday --until today --by hour --csv
  ntstat usage --flows --since 1h --app Safari --top 20
`,
  agent: `ntstat agent [--tcp] [--udp] [--quic] [--flush SECONDS] [--db PATH | --no-db] [source options]
       ntstat agent install [--dry-run] [flags] | uninstall | status

Records per-process and per-interface usage of every flow provider (TCP, UDP, QUIC, kernel and
userland) until Ctrl-C or SIGTERM, which take a last sweep and a final flush. Totals are
monotonic: closed flows keep counting. --tcp/--udp/--quic narrow what is recorded.
Sources as every live command: the kernel (macOS), --simulate [--macos V], --socket PATH --xnu V.
Export: --otlp URL [--otlp-interval SECONDS (15)] pushes OpenTelemetry (OTLP/HTTP);
/metrics (with --listen) takes --metrics-pid, --node-exporter-names, --max-processes N (200),
--metrics-ttl SECONDS (600).

Retention: --keep-minutes DAYS (7), --keep-hours DAYS (90), --keep-days DAYS (for ever),
--flow-log N closed flows (50000). install: a per-user LaunchAgent running 'ntstat agent' with the
flags given (macOS); elsewhere the equivalent systemd user unit is printed. See docs/agent.md.
Dashboard: --listen [HOST:PORT] serves it (default 127.0.0.1:9183) and prints its URL with a
token; a non-loopback address needs --allow-remote as well. See docs/web-api.md.

Examples:
  ntstat agent
  ntstat agent --simulate --scenario browser-burst --no-db
  ntstat agent install --flush 30
  ntstat agent --listen 127.0.0.1:9183
  ntstat agent --otlp http://collector:4318/v1/metrics --max-processes 50
`,
  web: `ntstat web [--listen HOST:PORT] [--allow-remote] [--no-open] [agent options] [source options]

The agent (see 'ntstat agent --help') with its dashboard on a free loopback port, opened in your
browser ($BROWSER, else open/xdg-open) unless --no-open. Prints the URL with its token on stderr:
  dashboard: http://127.0.0.1:PORT/?token=…
Live: per-app stacked rates (receive above, transmit below), sortable app/process table with a
rate/total toggle, an app's flows. History: 1 h, 24 h, 7 d, 30 d or custom range, per app or
interface. Health: kernel, dialect, providers, drops, database. Everything is served locally.

Examples:
  npx ntstat web --simulate
  ntstat web --no-open --listen 127.0.0.1:9183
`,
  doctor: `ntstat doctor [--xnu V | --macos V] [--self-test] [--report FILE [--no-redact]]

Shows the OS, kernel version, chosen dialect (and whether it is verified), providers available
with this user's privileges, the receive buffer size and the native FFI status.

Kernels without published sources (macOS 26, 27 and later) get a layout self-test: ntstat makes
loopback connections whose ports, pid, name and byte counts it knows, finds them in the kernel's
messages and checks every value. Verified, or the offsets are inferred from the bytes (fields it
cannot place are never printed; events say "layout":"inferred"), or ntstat refuses with
ERR_NTSTAT_LAYOUT (exit 1).
  --self-test       run the self-test even on a kernel with a published header
  --report FILE     write what a bug report needs: versions, the self-test's findings, and a short
                    capture of the session (other processes' addresses and names blanked)
  --no-redact       keep them in the report

Examples:
  ntstat doctor --report ntstat-report.json
  ntstat doctor --simulate --xnu 12377.1.9 --future-layout inserted
`,
};
