#!/usr/bin/env python3
"""Markdown report of a bench/launch run, from the raw files in its output directory.

    launch-report.py OUTDIR

OUTDIR holds (all optional except meta.tsv): meta.tsv (key <TAB> value), seq-b2b.tsv and
seq-iso.tsv (launch-timer seq), tput-VARIANT.tsv (launch-timer load), rss.tsv, stages.txt
(stage marks of the traced launches) with seq-traced.tsv, strace-VARIANT.txt and
report-NAME.json (NAME: the glexec variant without "glexec-").
"""
import collections
import json
import os
import re
import statistics
import sys

# base-*: the baseline revision of bench/launch -b, when there is one.
VARIANTS = ["floor", "unshare", "bwrap", "glexec-declare", "glexec-mapping", "glexec-token",
            "glexec-token-es256", "base-declare", "base-mapping"]
GLEXEC = ["glexec-declare", "glexec-mapping", "glexec-token", "glexec-token-es256",
          "base-declare", "base-mapping"]
REFS = ["floor", "unshare", "bwrap"]
# The token variants run on the mapping-mode installation of glexec-mapping: compared with it,
# what differs is the credential alone.
TOKEN_PAIRS = [("glexec-token", "glexec-mapping"), ("glexec-token-es256", "glexec-mapping"),
               ("glexec-token-es256", "glexec-token")]
# After against before: the measured tree against the baseline, same mode and credential.
BASE_PAIRS = [("glexec-declare", "base-declare"), ("glexec-mapping", "base-mapping")]


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
            name, rnd, usec, status = line.split("\t")[:4]
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
    for g, r in [(g, r) for g in GLEXEC for r in REFS] + TOKEN_PAIRS + BASE_PAIRS:
        if g not in data or r not in data:
            continue
        ratios = paired(data, g, r, lambda x, y: x / y)
        if not ratios:
            continue
        lines.append("| %s / %s | %.1f [%.1f-%.1f] | %.1f |" % (
            g, r, pct(ratios, 50), pct(ratios, 25), pct(ratios, 75),
            pct(list(data[g].values()), 50) / pct(list(data[r].values()), 50)))
    diffs = [(g, r, paired(data, g, r, lambda x, y: x - y)) for g, r in TOKEN_PAIRS + BASE_PAIRS
             if g in data and r in data]
    if any(d for _, _, d in diffs):
        lines += ["", "Token against proxy on the same installation, and the measured tree "
                  "against the baseline: the per-round difference of the launch times (median, "
                  "interquartile range in brackets).", "",
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


# ---- stage breakdown from the traced glexec ----------------------------------------------

# The marks of common/trace.h in launch order: each names the stage that ends at the mark and
# starts at the previous one. A launch starts with the harness's fork (before "main") and
# ends with its waitpid (after the last mark). Marks of one launch come from the supervisor,
# the namespace init and the payload up to its exec; in time order they form the launch's
# critical path (the reaper waits in parallel and records none), except for the supervisor's
# write and sync of the "start" record, which run beside the init's setup: the init stages in
# which they end are split at their marks.
STAGES = [
    ("main", "exec of glexec, loading, library init"),
    ("hygiene", "process hygiene, command line"),
    ("config", "configuration file"),
    ("caller", "caller, whitelist, installation checks"),
    ("credential", "credential verification"),
    ("authorize", "ban check, mapping, lease"),
    ("seccomp-compile", "seccomp filter: compile, or read from the cache"),
    ("lock", "sandbox base, lock file"),
    ("cgroup-create", "cgroup create with limits"),
    ("sandbox-stage", "sandbox dir, credential copy, stage-in, environment"),
    ("reaper", "reaper fork"),
    ("clone", "clone3: user, mount, PID namespaces"),
    ("id-maps", "uid/gid maps, start signal to the init"),
    ("audit-start", "supervisor: \"start\" record written (parallel to the init)"),
    ("audit-sync-start", "supervisor: \"start\" record synced (parallel to the init)"),
    ("init-cgroup", "init: enters the payload cgroup (v1)"),
    ("init-mounts", "init: mounts (/proc, /tmp, sandbox isolation)"),
    ("init-ids", "init: id switch"),
    ("init-capabilities", "init: capability drop, no_new_privs"),
    ("payload-setup", "payload: fork, session, cwd, rlimits, fds"),
    ("seccomp-load", "seccomp filter: load"),
    ("payload", "payload /bin/true: exec to exit"),
    ("supervise", "init exit, supervisor wake-up"),
    ("cgroup-usage", "cgroup usage read"),
    ("staging-out", "stage-out"),
    ("audit-end", "audit record \"end\", written"),
    ("teardown", "teardown: cgroup removal, sandbox, lock"),
    ("audit-sync-end", "audit record \"end\" synced (what is left after the teardown)"),
    ("reaper-exit", "reaper exit (it frees the removed sandbox directory)"),
    ("report", "report on --report-fd"),
]
EXIT_LABEL = "exit (to the caller's waitpid)"


def read_launches(path):
    """[(variant, start_ns, end_ns)] of the successful launches of launch-timer seq."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            name, _, _, status, start, end = line.rstrip("\n").split("\t")
            if int(status) == 0:
                out.append((name, int(start), int(end)))
    return out


def read_marks(path):
    marks = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and parts[0] == "glexec-trace":
                marks.append((int(parts[1]), parts[2]))
    marks.sort()
    return marks


def launch_stages(start, end, marks):
    """{stage: microseconds} of one launch from its marks (sorted), plus "total"."""
    durations = collections.Counter()
    prev = start
    for ns, stage in marks:
        durations[stage] += (ns - prev) / 1000.0
        prev = ns
    durations[EXIT_LABEL] = (end - prev) / 1000.0
    durations["total"] = (end - start) / 1000.0
    return durations


def stage_section(out, meta):
    path = os.path.join(out, "stages.txt")
    title = "## Stages of one glexec launch"
    if not os.path.exists(path):
        skipped = meta.get("stages_skipped")
        return [title, "", "Skipped: " + skipped] if skipped else []
    marks = read_marks(path)
    launches = read_launches(os.path.join(out, "seq-traced.tsv"))
    table = collections.defaultdict(list)
    i = 0
    for variant, start, end in sorted(launches, key=lambda l: l[1]):
        while i < len(marks) and marks[i][0] < start:
            i += 1
        j = i
        while j < len(marks) and marks[j][0] <= end:
            j += 1
        if j > i:
            table[variant].append(launch_stages(start, end, marks[i:j]))
        i = j
    modes = [v for v in GLEXEC if table[v]]
    if not modes:
        return [title, "", "No traced launch was recorded."]
    known = [s for s, _ in STAGES]
    labels = STAGES + [(s, s) for m in modes for d in table[m] for s in d
                       if s not in known and s not in ("total", EXIT_LABEL)]
    labels = list(collections.OrderedDict(labels).items()) + [(EXIT_LABEL, EXIT_LABEL)]
    lines = [title, "",
             "Medians over %s traced launches, in microseconds, from the stage timestamps of "
             "glexec built with `-DGLEXEC_STAGE_TRACE=ON` (`common/trace.h`; installed beside "
             "the measured binary as `sbin/glexec-trace`), made back to back and interleaved "
             "with the peers as in the back-to-back run. Each stage runs from the previous "
             "mark to its own, in launch order, across the supervisor, the namespace init and "
             "the payload; the first starts at the harness's fork and the last ends at its "
             "waitpid. The supervisor's write and sync of the \"start\" audit record run beside "
             "the init's setup, so the init stages in which they end are split at their marks. "
             "\"-\" where this glexec has no such stage." %
             ", ".join("%d %s" % (len(table[m]), short(m)) for m in modes), "",
             "| stage | mark | " + " | ".join(short(m) for m in modes) + " |",
             "|---|---|" + "---:|" * len(modes)]
    for stage, label in labels:
        cells = []
        for m in modes:
            col = [d[stage] for d in table[m] if stage in d]
            cells.append("%.0f" % statistics.median(col) if col else "-")
        if all(c == "-" for c in cells):
            continue
        mark = "" if stage == EXIT_LABEL else "`%s`" % stage
        lines.append("| %s | %s | %s |" % (label, mark, " | ".join(cells)))
    lines.append("| **total, fork to waitpid** | | %s |" % " | ".join(
        "%.0f" % statistics.median(d["total"] for d in table[m]) for m in modes))
    lines.append("")
    for m in modes:
        med = {s: statistics.median(d[s] for d in table[m] if s in d) for s, _ in labels
               if any(s in d for d in table[m])}
        top = sorted(med.items(), key=lambda kv: -kv[1])[:3]
        names = dict(labels)
        lines.append("- %s, most expensive: %s." % (m, "; ".join(
            "%s %.0f µs" % (names[s], v) for s, v in top)))
    b2b = os.path.join(out, "seq-b2b.tsv")
    if os.path.exists(b2b):
        bdata = read_seq(b2b)[0]
        lines.append("- whole launch medians of the untraced binaries in the back-to-back run: "
                     "%s." % ", ".join("%s %s ms" % (short(v), ms(pct(list(bdata[v].values()),
                                                                        50)))
                                      for v in modes if v in bdata))
    return lines


def short(variant):
    return variant[len("glexec-"):] if variant.startswith("glexec-") else variant


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
    if "baseline" in meta:
        lines.append("- baseline (base-declare, base-mapping): %s" % meta["baseline"])
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
             "Variants interleaved round by round, in an order shuffled for each round, no "
             "pause."),
            ("iso", "Isolated launches",
             "The same, with a pause of %s before every launch: a cgroup migration through "
             "`cgroup.procs` pays its RCU wait only here, and caches are colder." %
             meta.get("pause", "?"))):
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
