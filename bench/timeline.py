#!/usr/bin/env python3
"""Cuts the socket system calls bench/timeline.sh recorded into requests and prints each phase's median.

Usage: timeline.py NAME=PREFIX[,PREFIX...]... (each PREFIX.txt from `perf script -F tid,time,event,trace`, PREFIX.fds
from `ss`: "fd up" or "fd client" lines; the requests of a name's traces are pooled). A request begins with a receive on a client socket after the previous answer went out; it is
sent upstream, answered, and sent on to the client.
"""
import re
import statistics
import sys

EVENT = re.compile(r'\s*(\d+)\s+([\d.]+):\s+syscalls:sys_(enter|exit)_(\w+):\s*(.*)')
FD = re.compile(r'fd: (0x[0-9a-f]+)')
SENDS = {'sendto', 'sendmsg', 'writev', 'write'}
RECEIVES = {'recvfrom', 'read'}


def sockets(prefix):
    roles = {}
    for line in open(prefix + '.fds'):
        fd, role = line.split()
        roles[int(fd)] = role
    return roles


def events(prefix):
    """(time, thread, 'send'|'recv'|'wake', fd) in time order; receives only when they returned data."""
    entered, out = {}, []
    for line in open(prefix + '.txt', errors='replace'):
        m = EVENT.match(line)
        if not m:
            continue
        tid, t, edge, call, rest = int(m.group(1)), float(m.group(2)), m.group(3), m.group(4), m.group(5)
        if edge == 'enter':
            fd = FD.search(rest)
            entered[tid] = (call, int(fd.group(1), 16) if fd else None)
            if call in SENDS:
                out.append((t, tid, 'send', entered[tid][1]))
            continue
        call_fd = entered.pop(tid, None)
        if not call_fd:
            continue
        value = int(rest.strip(), 16)
        if value >= 1 << 63:
            value -= 1 << 64
        if call_fd[0] in RECEIVES and value > 0:
            out.append((t, tid, 'recv', call_fd[1]))
        elif call_fd[0] == 'futex' and value > 0:
            out.append((t, tid, 'wake', None))
    out.sort()
    return out


def requests(prefix):
    roles = sockets(prefix)
    done, current = [], None
    for t, tid, kind, fd in events(prefix):
        role = roles.get(fd)
        if kind == 'wake':
            if current is not None:
                current['wakes'] += 1
            continue
        if role == 'client' and kind == 'recv' and (current is None or 'out_last' in current):
            if current is not None:
                current['next'] = t
                done.append(current)
            current = {'in': t, 'threads': {tid}, 'wakes': 0, 'sends': 0}
            continue
        if current is None or role is None:
            continue
        current['threads'].add(tid)
        if role == 'up' and kind == 'send' and 'up_send' not in current:
            current['up_send'] = t
        elif role == 'up' and kind == 'recv' and 'up_send' in current:
            if 'up_first' not in current:
                current['up_first'], current['up_thread'] = t, tid
            current['up_last'] = t
        elif role == 'client' and kind == 'send' and 'up_first' in current:
            if 'out_first' not in current:
                current['out_first'], current['same_thread'] = t, int(tid == current['up_thread'])
            current['out_last'] = t
            current['sends'] += 1
    return [r for r in done if 'out_last' in r]


PHASES = [
    ('request in -> sent upstream', 'in', 'up_send'),
    ('sent upstream -> first byte back (the upstream)', 'up_send', 'up_first'),
    ('first byte back -> last byte back', 'up_first', 'up_last'),
    ('first byte back -> first byte on to the client', 'up_first', 'out_first'),
    ('first byte back -> last byte on to the client', 'up_first', 'out_last'),
    ('last byte on -> next request in (the client)', 'out_last', 'next'),
    ('whole cycle', 'in', 'next'),
]


def main(arguments):
    found = {}
    for argument in arguments:
        name, prefixes = argument.split('=', 1)
        found[name] = [r for prefix in prefixes.split(',') for r in requests(prefix)]
    names = list(found)
    width = max(len(p[0]) for p in PHASES)
    print(f"{'median µs per request':<{width}}" + ''.join(f'{n:>12}' for n in names))
    print(f"{'requests traced':<{width}}" + ''.join(f'{len(found[n]):>12}' for n in names))
    for label, start, end in PHASES:
        cells = []
        for n in names:
            spans = [(r[end] - r[start]) * 1e6 for r in found[n]]
            cells.append(f'{statistics.median(spans):>12.1f}' if spans else f"{'-':>12}")
        print(f'{label:<{width}}' + ''.join(cells))
    for label, key in [('sends to the client', 'sends'), ('threads that made its calls', 'threads'), ('futex wake-ups', 'wakes'),
                       ('first byte on by the thread that read it back', 'same_thread')]:
        cells = []
        for n in names:
            values = [len(r[key]) if isinstance(r[key], set) else r[key] for r in found[n]]
            cells.append(f'{statistics.mean(values):>12.2f}' if values else f"{'-':>12}")
        print(f'{label + " (mean)":<{width}}' + ''.join(cells))


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
