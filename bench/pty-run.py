#!/usr/bin/env python3
"""Run a command on a pseudo-terminal of a fixed size, for bench/e2e.ts (no native npm module).

    python3 bench/pty-run.py ROWS COLS CMD [ARG...]

The command gets the pty as stdin, stdout and stderr (so `ntstat top` sees a terminal and draws
only the rows that fit, as for a user). Its pid goes to this wrapper's stderr as "pid N" so the
bench can read the command's own CPU in /proc; everything it draws is copied to this wrapper's
stdout. SIGTERM is passed on to the command; the wrapper exits with the command's status.
"""
import errno
import fcntl
import os
import pty
import signal
import struct
import sys
import termios

rows, cols = int(sys.argv[1]), int(sys.argv[2])
argv = sys.argv[3:]
pid, master = pty.fork()
if pid == 0:
    # Size the terminal before the command can ask for it.
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(argv[0], argv)
sys.stderr.write(f'pid {pid}\n')
sys.stderr.flush()
signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGTERM))
signal.signal(signal.SIGINT, lambda *_: os.kill(pid, signal.SIGINT))
while True:
    try:
        data = os.read(master, 65536)
    except OSError as e:
        if e.errno == errno.EINTR:
            continue
        break  # EIO: the command closed the terminal
    if not data:
        break
    os.write(1, data)
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
