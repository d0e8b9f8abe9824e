#!/usr/bin/env python3
"""Markdown report of a bench/launch run, from the raw files in its output directory.

    launch-report.py OUTDIR

OUTDIR holds (all optional except meta.tsv): meta.tsv (key <TAB> value), seq-b2b.tsv and
seq-iso.tsv (launch-timer seq), tput-VARIANT.tsv (launch-timer load), rss.tsv, stages.txt
(perf script of the probed launches), seq-probed.tsv, strace-VARIANT.txt and
report-NAME.json (NAME: the glexec variant without "glexec-").
"""
import collections
import json
import os
import re
import statistics
import sys

VARIANTS = ["floor", "unshare", "bwrap", "glexec-declare", "glexec-mapping", "glexec-token",
            "glexec-token-es256"]
GLEXEC = ["glexec-declare", "glexec-mapping", "glexec-token", "glexec-token-es256"]
REFS = ["floor", "unshare", "bwrap"]
# The token variants run on the mapping-mode installation of glexec-mapping: compared with it,
# what differs is the credential alone.
TOKEN_PAIRS = [("glexec-token", "glexec-mapping"), ("glexec-token-es256", "glexec-mapping"),
               ("glexec-token-es256", "glexec-token")]


def pct(values, p):
    """Percentile with linear interpolation between closest ranks."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def ms(us):
    return "%.2f" % (us / 1000.0)


def read_meta(out):
    meta = collections.OrderedDict()
    with open(os.path.join(out, "meta.tsv"), encoding="utf-8") as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            meta[k] = v
    return meta


def read_seq(path):
    """{variant: {round: usec}} and failure counts from launch-timer seq output."""
    data = collections.defaultdict(dict)
    fails = collections.Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            name, rnd, usec, status = line.split("\t")
            if int(status) != 0:
                fails[name] += 1
                continue
            data[name][int(rnd)] = int(usec)
    return data, fails


def paired(data, a, b, f):
    """f(a's launch, b's launch) over the rounds both completed."""
    return [f(data[a][i], data[b][i]) for i in sorted(set(data[a]) & set(data[b]))]


def seq_section(title, path, note):
    data, fails = read_seq(path)
    names = [v for v in VARIANTS if v in data]
    lines = ["## " + title, "", note, "",
             "| variant | launches | failed | median ms | p90 ms |",
             "|---|---:|---:|---:|---:|"]
    for v in names:
        xs = list(data[v].values())
        lines.append("| %s | %d | %d | %s | %s |" % (v, len(xs), fails[v], ms(pct(xs, 50)),
                                                      ms(pct(xs, 90))))
    lines += ["", "Ratios of glexec to the others: median of the per-round ratios (the paired "
              "estimate, interquartile range in brackets), then the ratio of the medians.", "",
              "| ratio | paired median [p25-p75] | of medians |", "|---|---:|---:|"]
    for g, r in [(g, r) for g in GLEXEC for r in REFS] + TOKEN_PAIRS:
        if g not in data or r not in data:
            continue
        ratios = paired(data, g, r, lambda x, y: x / y)
        if not ratios:
            continue
        lines.append("| %s / %s | %.1f [%.1f-%.1f] | %.1f |" % (
            g, r, pct(ratios, 50), pct(ratios, 25), pct(ratios, 75),
            pct(list(data[g].values()), 50) / pct(list(data[r].values()), 50)))
    diffs = [(g, r, paired(data, g, r, lambda x, y: x - y)) for g, r in TOKEN_PAIRS
             if g in data and r in data]
    if any(d for _, _, d in diffs):
        lines += ["", "Token against proxy on the same installation: the per-round difference "
                  "of the launch times (median, interquartile range in brackets).", "",
                  "| difference | paired median ms [p25-p75] |", "|---|---:|"]
        lines += ["| %s - %s | %s [%s to %s] |" % (g, r, ms(pct(d, 50)), ms(pct(d, 25)),
                                                  ms(pct(d, 75))) for g, r, d in diffs if d]
    return lines


def tput_section(out, meta):
    rows = []
    for v in VARIANTS:
        path = os.path.join(out, "tput-%s.tsv" % v)
        if not os.path.exists(path):
            continue
        lat, failed, elapsed, total = [], 0, 0, 0
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("# elapsed_us"):
                    _, e, n = line.split("\t")
                    elapsed += int(e)
                    total += int(n)
                    continue
                _, _, usec, status = line.split("\t")
                lat.append(int(usec))
                failed += int(status) != 0
        if elapsed:
            rows.append("| %s | %d | %d | %.0f | %s | %s | %s | %s |" % (
                v, total, failed, total / (elapsed / 1e6), ms(pct(lat, 50)), ms(pct(lat, 90)),
                ms(pct(lat, 99)), ms(max(lat))))
    if not rows:
        return []
    return ["## Throughput", "",
            "%s concurrent callers launch one variant back to back, for %s s per variant in "
            "slices of at most 10 s, the variants taking turns." % (
                meta.get("callers", "?"), meta.get("seconds", "?")), "",
            "| variant | launches | failed | launches/s | median ms | p90 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"] + rows


def rss_section(out):
    path = os.path.join(out, "rss.tsv")
    if not os.path.exists(path):
        return []
    lines = ["## Peak memory", "",
             "VmHWM (peak RSS) and VmRSS of each process of a launch, sampled 0.5 s into a "
             "`/bin/sleep 1` payload. A process forked from the launcher (glexec's namespace "
             "init and reaper) counts the pages it still shares with it.", "",
             "| variant | process | comm | VmHWM MiB | VmRSS MiB |", "|---|---|---|---:|---:|"]
    with open(path, encoding="utf-8") as f:
        for line in f:
            v, depth, comm, nspid, hwm, rss = line.rstrip("\n").split("\t")
            if comm == "sleep":
                role = "payload"
            elif nspid == "1":
                role = "namespace init"
            elif depth == "0":
                role = "launcher"
            else:
                role = "helper"
            lines.append("| %s | %s | %s | %.1f | %.1f |" % (
                v, role, comm, int(hwm) / 1024, int(rss) / 1024))
    return lines


# ---- stage breakdown from perf script ---------------------------------------------------

EVENT_RE = re.compile(r"^\s*(.+?)\s+(\d+)/(\d+)\s+(\d+\.\d+):\s+(\S+):\s?(.*)$")


def parse_perf(path):
    events = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = EVENT_RE.match(line)
            if m:
                comm, pid, tid, t, ev, rest = m.groups()
                events.append((float(t) * 1e6, int(tid), ev, rest))
    events.sort()
    return events


def field(rest, key):
    m = re.search(r"\b%s=(\S+)" % key, rest)
    return m.group(1) if m else None


class Launch:
    def __init__(self, mode, pid, t0):
        self.mode, self.pid, self.t0 = mode, pid, t0
        self.parent = {}
        self.calls = collections.defaultdict(list)  # func -> [(pid, entry, ret)]
        self.open = collections.defaultdict(list)
        self.exec = {}
        self.exit = {}
        self.fsync = []  # (pid, start, end)
        self.fsync_open = {}
        self.token_len = None  # the len argument of cred_token_verify, when probed with it

    def variant(self, token_variants):
        """The bench variant: the mode, and in mapping mode the credential, told apart by
        the verifier called and the token's length (token_variants: {length: variant})."""
        if self.mode == "declare":
            return "glexec-declare"
        if not self.calls.get("cred_token_verify"):
            return "glexec-mapping"
        if self.token_len is None:
            return "glexec-token"
        return token_variants.get(int(self.token_len, 0), "glexec-token, other length")

    def init_pid(self):
        c = self.calls.get("init_main")
        return c[0][0] if c else None

    def payload_pid(self):
        init = self.init_pid()
        return next((p for p, parent in self.parent.items() if parent == init and p in self.exec),
                    None)


def build_launches(events):
    """Launches of the probed glexec binaries, and the off-CPU intervals of every pid:
    {pid: [(start, end, preempted)]} (preempted: switched out while runnable)."""
    launches, by_pid = [], {}
    off, out_since = collections.defaultdict(list), {}
    for t, pid, ev, rest in events:
        if ev == "sched:sched_switch":
            prev, nxt = int(field(rest, "prev_pid")), int(field(rest, "next_pid"))
            out_since[prev] = (t, (field(rest, "prev_state") or "").startswith("R"))
            if nxt in out_since:
                start, preempted = out_since.pop(nxt)
                off[nxt].append((start, t, preempted))
            continue
        if ev == "sched:sched_process_exec":
            fn = field(rest, "filename") or ""
            m = re.search(r"/(declare|mapping)/sbin/glexec$", fn)
            if m:
                lc = Launch(m.group(1), pid, t)
                launches.append(lc)
                by_pid[pid] = lc
            elif pid in by_pid:
                by_pid[pid].exec[pid] = t
            continue
        if ev == "sched:sched_process_fork":
            parent, child = int(field(rest, "pid")), int(field(rest, "child_pid"))
            if parent in by_pid:
                by_pid[child] = by_pid[parent]
                by_pid[child].parent[child] = parent
                # A new task is runnable until it first gets a CPU.
                out_since[child] = (t, True)
            continue
        lc = by_pid.get(pid)
        if lc is None:
            continue
        if ev == "sched:sched_process_exit":
            lc.exit[pid] = t
            del by_pid[pid]
        elif ev == "syscalls:sys_enter_fdatasync":
            lc.fsync_open[pid] = t
        elif ev == "syscalls:sys_exit_fdatasync":
            if pid in lc.fsync_open:
                lc.fsync.append((pid, lc.fsync_open.pop(pid), t))
        else:
            name = ev.split(":", 1)[1][2:]  # drop the d_ / m_ mode prefix
            if name.endswith("_ret__return"):
                func = name[: -len("_ret__return")]
                if lc.open[(pid, func)]:
                    lc.calls[func].append((pid, lc.open[(pid, func)].pop(), t))
            elif name in ("main", "init_main"):
                lc.calls[name].append((pid, t, t))
            else:
                lc.open[(pid, name)].append(t)
                if name == "cred_token_verify":
                    lc.token_len = field(rest, "len")
    return [lc for lc in launches if lc.pid in lc.exit], off


def call(lc, func, n=0, pid=None):
    """The n-th call of func (by the supervisor unless pid is given): (pid, entry, ret)."""
    pid = lc.pid if pid is None else pid
    calls = sorted((c for c in lc.calls.get(func, []) if c[0] == pid), key=lambda c: c[1])
    return calls[n] if len(calls) > n else None


def span(pid, a, b):
    return [(pid, a, b)] if pid is not None and a is not None and b is not None else []


def calls_of(lc, funcs, pid=None):
    out = []
    for f in funcs:
        c = call(lc, f, pid=pid)
        if c:
            out.append(c)
    return out


def stages(lc):
    """[(label, [(pid, start, end)...], is_sub)] for one launch, in launch order. Spans of a
    main line partition the launch; sub lines are part of the line above."""
    sup, init, payload = lc.pid, lc.init_pid(), lc.payload_pid()
    p_exec, p_exit = lc.exec.get(payload), lc.exit.get(payload)
    main = call(lc, "main")
    cfg = call(lc, "config_load")
    cv = call(lc, "credentials_verify")
    sb = call(lc, "sandbox_start")
    sr = call(lc, "supervise_run")
    ids = call(lc, "ids_switch", pid=init)
    init_done = max((c[2] for c in calls_of(lc, ["ids_switch", "ids_drop_capabilities",
                                                 "ids_set_no_new_privs"], pid=init)),
                    default=None)
    aw1, aw2 = call(lc, "audit_write", 0), call(lc, "audit_write", 1)
    cg_make = calls_of(lc, ["limits_create"]) or calls_of(
        lc, ["cg_detect", "cg_parent_open", "cg_cleanup_stale", "cg_create"])
    cg_end = [call(lc, "limits_finish")] if call(lc, "limits_finish") else calls_of(
        lc, ["cg_read_stats", "cg_destroy"])

    def fsync_in(c):
        return [(p, s, e) for p, s, e in lc.fsync if c and p == c[0] and c[1] <= s <= c[2]]

    rows = [
        ("exec of glexec, dynamic linking, library init", span(sup, lc.t0, main and main[1]),
         False),
        ("process hygiene, command line", span(sup, main and main[1], cfg and cfg[1]), False),
        ("configuration (config_load)", calls_of(lc, ["config_load"]), False),
        ("caller checks (log setup, caller, whitelist)", span(sup, cfg and cfg[2], cv and cv[1]),
         False),
        ("credential verification (credentials_verify)", calls_of(lc, ["credentials_verify"]),
         False),
        ("  of which cred_x509_verify (X.509 chain, VOMS AC)", calls_of(lc, ["cred_x509_verify"]),
         True),
        ("  of which key_proves_possession (key matches the certificate)",
         calls_of(lc, ["key_proves_possession"]), True),
        ("  of which voms_verify_chain", calls_of(lc, ["voms_verify_chain"]), True),
        ("  of which cred_token_verify (JWT, issuers file, JWKS file)",
         calls_of(lc, ["cred_token_verify"]), True),
        ("  of which jws_finish (JWKS parse, signature, claims)", calls_of(lc, ["jws_finish"]),
         True),
        ("ban check, mapping, lease (credentials_authorize)",
         calls_of(lc, ["credentials_authorize"]), False),
        ("  of which lease_acquire", calls_of(lc, ["lease_acquire"]), True),
        ("  of which map_account_lookup", calls_of(lc, ["map_account_lookup"]), True),
        ("seccomp compile (sc_profile_compile_file)", calls_of(lc, ["sc_profile_compile_file"]),
         False),
        ("sandbox dir, lock, credential copy, environment", calls_of(lc, [
            "stage_open_base", "lock_create", "lock_sweep_stale", "stage_create",
            "credentials_deliver", "staging_in", "env_build"]), False),
        ("cgroup create with limits (limits_create)", cg_make, False),
        ("reaper fork (reaper_start)", calls_of(lc, ["reaper_start"]), False),
        ("audit record \"start\" (audit_write)", [aw1] if aw1 else [], False),
        ("  of which fdatasync", fsync_in(aw1), True),
        ("clone, namespaces, cgroup attach, id maps (sandbox_start)", [sb] if sb else [], False),
        ("  of which cgroup attach (cg_attach_pid)", calls_of(lc, ["cg_attach_pid"]), True),
        ("  of which uid/gid maps (write_id_maps)", calls_of(lc, ["write_id_maps"]), True),
        ("init: mounts (/proc, tmpfs, sandbox isolation)",
         span(init, sb and sb[2], ids and ids[1]), False),
        ("init: ids, capability drop, no_new_privs", span(init, ids and ids[1], init_done), False),
        ("  of which ids_drop_capabilities (libcap-ng)",
         calls_of(lc, ["ids_drop_capabilities"], pid=init), True),
        ("payload fork, setup, seccomp load", span(payload, init_done, p_exec), False),
        ("  of which sc_filter_load", calls_of(lc, ["sc_filter_load"], pid=payload), True),
        ("payload /bin/true: exec to exit", span(payload, p_exec, p_exit), False),
        ("init exit, supervisor wake-up", span(sup, p_exit, sr and sr[2]), False),
        ("cgroup stats and removal (limits_finish)", cg_end, False),
        ("audit record \"end\" (audit_write)", [aw2] if aw2 else [], False),
        ("  of which fdatasync", fsync_in(aw2), True),
        ("teardown: stage-out, sandbox, lock, reaper", calls_of(lc, [
            "staging_out", "stage_remove", "lock_remove", "reaper_dismiss"]), False),
    ]
    last_ret = max(c[2] for calls in lc.calls.values() for c in calls if c[0] == sup)
    rows.append(("exit", span(sup, last_ret, lc.exit[sup]), False))
    return rows


def preempted(off, spans):
    total = 0.0
    for pid, a, b in spans:
        for s, e, pre in off.get(pid, ()):
            if pre and e > a and s < b:
                total += min(b, e) - max(a, s)
    return total


def short(variant):
    return variant[len("glexec-"):] if variant.startswith("glexec-") else variant


def stage_section(out, meta):
    path = os.path.join(out, "stages.txt")
    title = "## Stages of one glexec launch"
    if not os.path.exists(path):
        skipped = meta.get("stages_skipped")
        return [title, "", "Skipped: " + skipped] if skipped else []
    launches, off = build_launches(parse_perf(path))
    token_variants = {}
    for kv in meta.get("token_bytes", "").split():
        v, _, n = kv.partition("=")
        token_variants[int(n)] = v
    # per variant: list over launches of [(wall, wall minus preempted)] per row, plus totals
    table = collections.defaultdict(list)
    labels = None
    for lc in launches:
        rows = stages(lc)
        labels = labels or [(label, sub) for label, _, sub in rows]
        vals = []
        for _, spans, _ in rows:
            if spans:
                wall = sum(b - a for _, a, b in spans)
                vals.append((wall, wall - preempted(off, spans)))
            else:
                vals.append(None)
        whole = lc.exit[lc.pid] - lc.t0
        main_rows = [v for v, (_, sub) in zip(vals, labels) if v and not sub]
        rest = whole - sum(w for w, _ in main_rows)
        sup_rest = preempted(off, [(lc.pid, lc.t0, lc.exit[lc.pid])]) - sum(
            w - c for w, c in main_rows)
        vals.append((rest, rest - max(sup_rest, 0.0)))
        vals.append((whole, sum(c for _, c in main_rows) + rest - max(sup_rest, 0.0)))
        table[lc.variant(token_variants)].append(vals)
    modes = [v for v in GLEXEC if table[v]] + sorted(v for v in table if v not in GLEXEC)
    if not modes:
        return [title, "", "No probed launch was recorded."]
    labels = labels + [("not attributed to a stage above", False),
                       ("**total, exec of glexec to its exit**", False)]
    lines = [title, "",
             "Medians over %s probed launches, in microseconds: uprobes on glexec's stage "
             "functions with the sched and fdatasync tracepoints (`perf record -a`; see "
             "bench/README.md). *wall* is elapsed time; *run* leaves out the time the process "
             "was preempted (runnable, waiting for a CPU), which is what a loaded machine "
             "adds; both include sleeping (I/O, waits). Stages are in launch order; \"-\" "
             "where this glexec has no such stage. The token variants run on the mapping "
             "installation (columns token, token-es256)." %
             ", ".join("%d %s" % (len(table[m]), short(m)) for m in modes), "",
             "| stage | " + " | ".join("%s wall | %s run" % (short(m), short(m))
                                      for m in modes) + " |",
             "|---|" + "---:|---:|" * len(modes)]
    for i, (label, sub) in enumerate(labels):
        cells = []
        for m in modes:
            col = [v[i] for v in table[m] if v[i] is not None]
            if col:
                cells += ["%.0f" % statistics.median(w for w, _ in col),
                          "%.0f" % statistics.median(c for _, c in col)]
            else:
                cells += ["-", "-"]
        name = label.replace("  of which", "&nbsp;&nbsp;of which")
        lines.append("| %s | %s |" % (name, " | ".join(cells)))
    probed = os.path.join(out, "seq-probed.tsv")
    b2b = os.path.join(out, "seq-b2b.tsv")
    if os.path.exists(probed):
        pdata, _ = read_seq(probed)
        bdata = read_seq(b2b)[0] if os.path.exists(b2b) else {}
        lines.append("")
        for v in GLEXEC:
            if v in pdata:
                txt = "%s ms with probes" % ms(pct(list(pdata[v].values()), 50))
                if v in bdata:
                    txt += ", %s ms without (back-to-back run)" % ms(
                        pct(list(bdata[v].values()), 50))
                lines.append("- %s, whole launch as the pilot sees it (median): %s." % (v, txt))
    return lines


# ---- syscall counts from strace ---------------------------------------------------------

LAUNCHER_RE = {"unshare": r"/unshare$", "bwrap": r"/bwrap$"}
LAUNCHER_RE.update((g, r"/sbin/glexec$") for g in GLEXEC)


def count_syscalls(path, launcher_re):
    per_pid = collections.Counter()
    names = collections.Counter()
    started = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^(\d+)\s+(\w+)\((.*)$", line)
            if not m:
                continue  # resumed calls, signals, exits
            pid, name, rest = m.groups()
            if not started:
                fn = re.match(r'"([^"]*)"', rest)
                if name == "execve" and fn and re.search(launcher_re, fn.group(1)) and \
                        rest.rstrip().endswith("= 0"):
                    started = True
                continue
            per_pid[pid] += 1
            names[name] += 1
    return per_pid, names


def syscall_section(out):
    rows = []
    for v, rx in LAUNCHER_RE.items():
        path = os.path.join(out, "strace-%s.txt" % v)
        if not os.path.exists(path):
            continue
        per_pid, names = count_syscalls(path, rx)
        top = ", ".join("%s %d" % kv for kv in names.most_common(6))
        rows.append("| %s | %d | %d | %s |" % (v, sum(per_pid.values()), len(per_pid), top))
    if not rows:
        return []
    return ["## Syscalls per launch", "",
            "`strace -f` of one launch of `/bin/true`, counted from the exec of the launcher "
            "(the payload's own ~35 syscalls included).", "",
            "| variant | syscalls | processes | most frequent |", "|---|---:|---:|---|"] + rows


def main():
    out = sys.argv[1]
    meta = read_meta(out)
    lines = ["# bench/launch results", "",
             "- date: %s" % meta.get("date", "?"),
             "- machine: %s CPUs, %s, kernel %s, %s, cgroups %s" % (
                 meta.get("nproc"), meta.get("cpu"), meta.get("kernel"), meta.get("os"),
                 meta.get("cgroups")),
             "- command: `%s` (%s, %s build)" % (meta.get("command"), meta.get("source"),
                                                  meta.get("build_type")),
             "- parameters: %s" % meta.get("params"),
             "- peers: %s" % meta.get("versions"),
             "- load: %s at the start; %s at the end" % (
                 meta.get("uptime_start", "?").strip(), meta.get("uptime_end", "?").strip())]
    if "tokens_made" in meta:
        lines.append("- tokens: made at %s; %s bytes" % (meta["tokens_made"],
                                                         meta.get("token_bytes", "?")))
    for g in GLEXEC:
        path = os.path.join(out, "report-%s.json" % short(g))
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                rep = json.load(f)
            token = (rep.get("identity") or {}).get("token")
            lines.append("- %s (%s mode%s): payload ran as %s (uid %s); cgroup: %s" % (
                g, rep.get("mode"), ", token of %s" % token.get("iss") if token else "",
                rep["target"]["user"], rep["target"]["uid"], json.dumps(rep.get("cgroup"))))
    lines.append("")
    for name, title, note in (
            ("b2b", "Back-to-back launches",
             "Variants interleaved round by round (A B C ... A B C ...), no pause."),
            ("iso", "Isolated launches",
             "The same, with a pause of %s before every launch (the cgroup attach penalty "
             "shows only here)." % meta.get("pause", "?"))):
        path = os.path.join(out, "seq-%s.tsv" % name)
        if os.path.exists(path):
            lines += seq_section(title, path, note) + [""]
    for section in (tput_section(out, meta), rss_section(out), stage_section(out, meta),
                    syscall_section(out)):
        if section:
            lines += section + [""]
    checks = [(k, v) for k, v in meta.items()
              if k.startswith(("audit_", "leases", "leftovers", "probes"))]
    if checks:
        lines += ["## Integrity after the run", ""]
        lines += ["- %s: %s" % kv for kv in checks]
        lines.append("")
    loads = [(k[len("load_before_"):], v, meta.get("load_after_" + k[len("load_before_"):]))
             for k, v in meta.items() if k.startswith("load_before_")]
    if loads:
        lines += ["## Load average (1, 5, 15 min) around each part", "",
                  "| part | before | after |", "|---|---|---|"]
        lines += ["| %s | %s | %s |" % row for row in loads]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
