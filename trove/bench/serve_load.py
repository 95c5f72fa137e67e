#!/usr/bin/env python3
"""serve_load.py: latency of `trove serve`'s search API under concurrent clients.

    serve_load.py URL QUERIES.tsv [--clients 4] [--rounds 3] [--mode hybrid]

Reads the queries of a query set (trove/bench/queries/*.tsv: kind, query,
targets), asks each once to warm the server (not counted), then runs
--clients threads, each with its own keep-alive connection, each asking
every query --rounds times in its own shuffled order. Prints the count, the
requests per second and the latency percentiles (milliseconds, time to the
whole answer), and fails if any answer is not 200. A search's latency
includes the query's embedding in hybrid and semantic mode.
"""
import argparse
import http.client
import random
import statistics
import sys
import threading
import time
import urllib.parse


def read_queries(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 2 and cols[1].strip():
                out.append(cols[1].strip())
    return out


def ask(conn, path):
    t0 = time.perf_counter()
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    return r.status, (time.perf_counter() - t0) * 1000


def percentile(sorted_ms, p):
    k = min(len(sorted_ms) - 1, max(0, round(p / 100 * (len(sorted_ms) - 1))))
    return sorted_ms[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("queries")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mode", default="hybrid")
    a = ap.parse_args()
    u = urllib.parse.urlsplit(a.url)
    queries = read_queries(a.queries)
    paths = ["/api/search?" + urllib.parse.urlencode({"q": q, "mode": a.mode}) for q in queries]

    warm = http.client.HTTPConnection(u.hostname, u.port)
    for p in paths:
        status, _ = ask(warm, p)
        if status != 200:
            sys.exit(f"serve_load: {p} answered {status}")
    warm.close()

    lat, bad, lock = [], [], threading.Lock()

    def client(seed):
        conn = http.client.HTTPConnection(u.hostname, u.port)
        order = [p for _ in range(a.rounds) for p in paths]
        random.Random(seed).shuffle(order)
        mine = []
        for p in order:
            status, ms = ask(conn, p)
            mine.append(ms)
            if status != 200:
                bad.append((p, status))
        conn.close()
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    print(f"mode {a.mode}, {a.clients} clients, {len(queries)} queries x {a.rounds} rounds each: "
          f"{len(lat)} requests in {wall:.1f} s ({len(lat) / wall:.0f}/s)")
    print(f"latency ms: p50 {percentile(lat, 50):.1f}  p90 {percentile(lat, 90):.1f}  "
          f"p99 {percentile(lat, 99):.1f}  max {lat[-1]:.1f}  mean {statistics.fmean(lat):.1f}")
    if bad:
        sys.exit(f"serve_load: {len(bad)} answers were not 200, e.g. {bad[0]}")


if __name__ == "__main__":
    main()
