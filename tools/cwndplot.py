#!/usr/bin/python3
"""cwndplot.py - draws congestion windows from cwnd logs, one panel per log.

    tools/cwndplot.py -o OUT.png [--title TITLE]... [--mss BYTES | --kb]
                      [--seconds S] [--own-time] LOG...

A log is the lines of ccsim (chapter 8), whose first field is the virtual
time in seconds ("12.345 cwnd 29200 ssthresh 14600 in-flight 27740 (...)"),
or the --cwnd-log lines of a chapter program such as serve, whose first
field is the wall-clock time "HH:MM:SS.ffffff" ("... tcp :80
192.0.2.1:40000 cwnd ...").  Times become seconds from the log's first line
(across midnight too).  Lines without "cwnd N ssthresh N|none in-flight N"
are skipped, except ccsim's "drop (...)" lines, drawn as ticks along the
bottom.  With several connections in one log, the one with the most lines
is drawn.

Each panel shows cwnd and ssthresh as steps, and the data in flight in a
lighter colour, in segments of --mss bytes (default 1460) or, with --kb, in
kilobytes of 1000 bytes; its title is the next --title, or the log's name.
The panels share their time axis, unless --own-time gives each its own (for
runs of very different lengths); --seconds draws the last values on to S.
The PNG is the same bytes for the same logs and flags: no time stamp and no
software version in its metadata (Debian's python3-matplotlib, Agg).

Exit 0 when drawn, 2 on a usage error or a log with no cwnd line.
"""
import argparse
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CWND = re.compile(r"cwnd (\d+) ssthresh (\d+|none) in-flight (\d+) \(([^)]*)\)")
WALL = re.compile(r"^(\d\d):(\d\d):(\d\d(?:\.\d+)?)$")
VIRTUAL = re.compile(r"^\d+(?:\.\d+)?$")
CONN = re.compile(r"\btcp (:\d+ \S+) ")
DAY_S = 86400.0


def line_time(field):
    """Seconds that a line's first field names (virtual seconds, or the wall
    clock's seconds since midnight), or None if it is neither."""
    wall = WALL.match(field)
    if wall:
        return int(wall[1]) * 3600 + int(wall[2]) * 60 + float(wall[3])
    if VIRTUAL.match(field):
        return float(field)
    return None


def parse_log(text):
    """(points, drops) of a log: points a list of (t_s, cwnd, ssthresh or
    None, in_flight), t_s from the first timed line; drops a list of t_s.
    Of several connections (serve's "tcp :PORT ADDR:PORT"), only the one with
    the most lines is kept."""
    by_conn, drops = {}, []
    start = previous = None
    day = 0.0
    for line in text.splitlines():
        fields = line.split(maxsplit=1)
        clock = line_time(fields[0]) if fields else None
        if clock is None:
            continue
        if previous is not None and WALL.match(fields[0]) and clock < previous - DAY_S / 2:
            day += DAY_S                      # the wall clock passed midnight
        previous = clock
        t_s = clock + day
        start = t_s if start is None else start
        if len(fields) > 1 and fields[1].startswith("drop ("):
            drops.append(t_s - start)
            continue
        found = CWND.search(line)
        if not found:
            continue
        conn = CONN.search(line)
        ssthresh = None if found[2] == "none" else int(found[2])
        by_conn.setdefault(conn[1] if conn else "", []).append(
            (t_s - start, int(found[1]), ssthresh, int(found[3])))
    points = max(by_conn.values(), key=len) if by_conn else []
    return points, drops


def draw_panel(axes, points, drops, title, unit_bytes, seconds):
    """Draws one log's windows on axes, values divided by unit_bytes."""
    times = [p[0] for p in points]
    if seconds is not None:
        times.append(seconds)              # the last value holds to the end
        points = points + [points[-1]]
    cwnd = [p[1] / unit_bytes for p in points]
    ssthresh = [float("nan") if p[2] is None else p[2] / unit_bytes for p in points]
    flight = [p[3] / unit_bytes for p in points]
    axes.plot(times, flight, drawstyle="steps-post", color="#9ecae1", linewidth=0.8,
              label="in flight")
    axes.plot(times, ssthresh, drawstyle="steps-post", color="#d62728", linewidth=1.2,
              linestyle="--", label="ssthresh")
    axes.plot(times, cwnd, drawstyle="steps-post", color="#08519c", linewidth=1.4, label="cwnd")
    if drops:
        axes.plot(drops, [0] * len(drops), linestyle="none", marker="|", markersize=9,
                  color="#d62728", label="frame dropped")
    axes.set_title(title)
    axes.grid(True, linewidth=0.3)
    axes.legend(loc="upper right", fontsize="small", ncol=4)
    axes.set_ylim(bottom=0)


def draw(logs, titles, out, unit_bytes, unit_name, seconds, own_time):
    """Draws every (points, drops) of logs in panels one above the other
    (sharing the time axis unless own_time) and saves the PNG to out,
    without metadata that changes from run to run."""
    fig, panels = plt.subplots(len(logs), 1, figsize=(10, 3.2 * len(logs)), sharex=not own_time,
                               sharey=True, squeeze=False)
    for axes, (points, drops), title in zip(panels[:, 0], logs, titles):
        draw_panel(axes, points, drops, title, unit_bytes, seconds)
        axes.set_ylabel(unit_name)
        axes.set_xlim(left=0)
        if own_time or axes is panels[-1, 0]:
            axes.set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(out, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)


def parse_args(argv):
    """The command line; exits 2 on a usage error (argparse's own)."""
    parser = argparse.ArgumentParser(description="Draws cwnd logs, one panel per log.")
    parser.add_argument("logs", nargs="+", metavar="LOG", help="a cwnd log (ccsim, or --cwnd-log)")
    parser.add_argument("-o", "--output", required=True, help="the PNG to write")
    parser.add_argument("--title", action="append", default=[], help="a panel's title, in order")
    parser.add_argument("--mss", type=int, default=1460, help="bytes per segment (default 1460)")
    parser.add_argument("--kb", action="store_true", help="kilobytes (1000 bytes), not segments")
    parser.add_argument("--seconds", type=float, help="draw the last values on to this time")
    parser.add_argument("--own-time", action="store_true", help="a time axis for each panel")
    args = parser.parse_args(argv)
    if args.mss <= 0:
        parser.error("--mss wants a positive number of bytes")
    if len(args.title) > len(args.logs):
        parser.error("more --title than logs")
    return args


def main(argv):
    """Reads the logs and draws them; returns the exit status."""
    args = parse_args(argv)
    logs = []
    for path in args.logs:
        try:
            with open(path, encoding="utf-8") as f:
                logs.append(parse_log(f.read()))
        except OSError as err:
            print(f"cwndplot: {err}", file=sys.stderr)
            return 2
        if not logs[-1][0]:
            print(f"cwndplot: {path} has no cwnd line", file=sys.stderr)
            return 2
    titles = args.title + args.logs[len(args.title):]
    if args.kb:
        draw(logs, titles, args.output, 1000, "kB", args.seconds, args.own_time)
    else:
        draw(logs, titles, args.output, args.mss, f"segments ({args.mss} bytes)", args.seconds,
             args.own_time)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
