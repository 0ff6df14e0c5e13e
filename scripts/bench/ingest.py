#!/usr/bin/env python3
"""Times merx data stats and pandas.read_csv on one core; median of 7 runs.
Also merx data stats on the same file packed once (merx data pack, a .mxd)."""
import os, resource, statistics, subprocess, sys, time

merx, plain, gz = sys.argv[1:4]
size_mb = os.path.getsize(plain) / 1e6
cols = "user=CustomerID,item=StockCode,value=Quantity,time=InvoiceDate"
RUNS = 7

def run(cmd):
    """Median wall seconds and peak RSS (MB) of cmd, each run in a fresh child;
    the median CPU seconds (user + sys) go to cpu[cmd-label] via the last call."""
    times, rss, cpus = [], [], []
    for _ in range(RUNS):
        pid = os.fork()
        if pid == 0:
            os.sched_setaffinity(0, {0})
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1); os.dup2(devnull, 2)
            os.execvp(cmd[0], cmd)
        t0 = time.perf_counter()
        _, status, ru = os.wait4(pid, 0)
        times.append(time.perf_counter() - t0)
        if status != 0:
            sys.exit(f"failed: {' '.join(cmd)}")
        rss.append(ru.ru_maxrss / 1024)
        cpus.append(ru.ru_utime + ru.ru_stime)
    run.cpu = statistics.median(cpus)
    return statistics.median(times), max(rss)

pandas_code = ("import pandas as pd, sys; df = pd.read_csv(sys.argv[1], "
               "dtype={'CustomerID': str, 'StockCode': str, 'InvoiceNo': str})")
rows = []
for label, path in (("plain", plain), ("gzip", gz)):
    t, r = run([merx, "data", "stats", "--data", path, "--columns", cols, "--json"])
    rows.append((f"merx data stats ({label})", t, r, run.cpu))
    t, r = run(["/usr/bin/python3", "-c", pandas_code, path])
    rows.append((f"pandas read_csv ({label})", t, r, run.cpu))
# pandas' time includes interpreter + import; report the import alone too
t, r = run(["/usr/bin/python3", "-c", "import pandas"])
rows.append(("python3 -c 'import pandas' (startup only)", t, r, run.cpu))
# the same dataset packed once (not timed here: it is one CSV read plus a write)
mxd = os.path.splitext(plain)[0] + ".mxd"
subprocess.run([merx, "data", "pack", "--data", plain, "--columns", cols, "--out", mxd],
               check=True, stderr=subprocess.DEVNULL)
t, r = run([merx, "data", "stats", "--data", mxd, "--json"])
rows.append((f"merx data stats (.mxd, {os.path.getsize(mxd) / 1e6:.1f} MB)", t, r, run.cpu))
os.unlink(mxd)

print(f"Online Retail CSV: {size_mb:.1f} MB decompressed, 541,909 rows; median of {RUNS} runs, 1 core")
print(f"{'command':44s} {'seconds':>8s} {'CPU s':>8s} {'MB/s':>8s} {'peak RSS MB':>12s}")
for name, t, r, c in rows:
    print(f"{name:44s} {t:8.3f} {c:8.3f} {size_mb / t:8.1f} {r:12.1f}")
m_plain, p_plain = rows[0][1], rows[1][1]
m_gz, p_gz = rows[2][1], rows[3][1]
print(f"speed-up over pandas: plain {p_plain / m_plain:.1f}x, gzip {p_gz / m_gz:.1f}x "
      f"(pandas minus its startup: plain {(p_plain - rows[4][1]) / m_plain:.1f}x)")
print(f".mxd over the plain CSV: {m_plain / rows[5][1]:.1f}x wall, "
      f"{rows[0][3] / rows[5][3]:.1f}x CPU (MB/s of the .mxd row: CSV bytes per second)")
