#!/usr/bin/env python3
"""The Debian package (issue 11, item 7): `cpack -G DEB` in the build tree
the binary under test lives in, then:
  - control: package name and version, Depends found by dpkg-shlibdeps
    (Hyperscan, librdkafka, ...) and each satisfied on this machine, the
    conffile, the maintainer scripts;
  - contents: binary, rules, unit, sysusers.d file, config, docs, and
    nothing else (no build-tree path leaking into the package);
  - `dpkg --root` into a scratch root (maintainer scripts run, chrootless):
    dpkg says installed, the postinst created the `earshot` system user and
    group there (systemd-sysusers), nologin, no home;
  - the installed binary from /: --version; check-rules loads the installed
    rules and they are the source tree's (same version hash); the shipped
    /etc/earshot/earshot.conf passes `run --check`;
  - the installed unit: `systemd-analyze security --offline=yes` exposure
    <= 2.0 (where systemd-analyze exists), and ExecStart names /usr/bin;
  - the unit's sandbox does not break earshot: the installed binary runs a
    pipeline on the embedded broker, with the shipped config, under the
    kernel mechanisms systemd would use for the unit's settings and counts
    in = counts out: MemoryDenyWriteExecute as PR_SET_MDWE (the same W^X
    rule; Linux >= 6.3), NoNewPrivileges, and SystemCallFilter as a seccomp
    allow-list built from the unit's own SystemCallFilter= lines, expanded
    by `systemd-analyze syscall-filter`, failing other calls with EPERM as
    SystemCallErrorNumber= says. Not emulated: RestrictAddressFamilies,
    the mount namespace (ProtectSystem, PrivateTmp), User=.

usage: test_package_deb.py EARSHOT_BINARY
"""
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

N = 1000
MAX_EXPOSURE = 2.0
PR_SET_MDWE, PR_GET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 66, 1

# What the package may hold: anything else is a leak (a build path, a stray file).
ALLOWED = ("etc/earshot/", "usr/bin/earshot", "usr/lib/systemd/system/earshot.service",
           "usr/lib/sysusers.d/earshot.conf", "usr/share/earshot/", "usr/share/doc/earshot/")
REQUIRED = ("etc/earshot/earshot.conf", "usr/bin/earshot",
            "usr/lib/systemd/system/earshot.service", "usr/lib/sysusers.d/earshot.conf",
            "usr/share/earshot/rules/brands.json", "usr/share/doc/earshot/README.md",
            "usr/share/earshot/examples/earshot.conf")


def sh(args, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(args, **kw)


def control_fields(text):
    fields, key = {}, None
    for line in text.splitlines():
        m = re.match(r"^ ([A-Za-z-]+): ?(.*)$", line)
        if m:
            key = m.group(1)
            fields[key] = m.group(2)
        elif key and line.startswith("  "):
            fields[key] += "\n" + line.strip()
    return fields


def dep_satisfied(dep):
    """One Depends alternative list 'pkg (>= v) | other': true if installed here."""
    for alt in dep.split("|"):
        m = re.match(r"\s*([a-z0-9.+-]+)(?::\S+)?\s*(?:\(([<>=]+)\s*([^)]+)\))?\s*$", alt)
        if not m:
            continue
        q = sh(["dpkg-query", "-W", "-f=${Status} ${Version}", m.group(1)])
        if q.returncode != 0 or not q.stdout.decode().startswith("install ok installed"):
            continue
        if not m.group(2):
            return True
        have = q.stdout.decode().split()[-1]
        op = {">=": "ge", "<=": "le", ">>": "gt", "<<": "lt", "=": "eq"}[m.group(2)]
        if sh(["dpkg", "--compare-versions", have, op, m.group(3).strip()]).returncode == 0:
            return True
    return False


def mdwe_preexec():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE)")


# --- SystemCallFilter= as systemd would install it (x86_64 only) ---------

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
AUDIT_ARCH_X86_64 = 0xC000003E
RET_ALLOW, RET_EPERM = 0x7FFF0000, 0x00050000 | 1
UNISTD = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def unit_syscalls(unit_text):
    """The set of syscall names the unit's SystemCallFilter= lines allow,
    or None when systemd-analyze cannot expand the groups."""
    r = sh(["systemd-analyze", "syscall-filter", "--no-pager"])
    groups, cur = {}, None
    for line in r.stdout.decode().splitlines():
        if re.match(r"^@[\w-]+$", line):
            cur = groups.setdefault(line, [])
        elif cur is not None and re.match(r"^\s+@?[\w-]+$", line):
            cur.append(line.strip())
        elif not line.strip():
            cur = None
    if "@system-service" not in groups:
        return None

    def expand(name, seen=()):
        if not name.startswith("@"):
            return {name}
        out = set()
        for n in groups.get(name, ()):
            if n not in seen:
                out |= expand(n, seen + (name,))
        return out
    allowed = set()
    for line in unit_text.splitlines():
        m = re.match(r"^SystemCallFilter=(~?)(.*)$", line.strip())
        if not m:
            continue
        names = set()
        for n in m.group(2).split():
            names |= expand(n)
        if m.group(1):
            allowed -= names
        else:
            allowed |= names
    return allowed


def seccomp_program(names):
    nrs = {}
    with open(UNISTD) as f:
        for line in f:
            m = re.match(r"#define __NR_(\w+)\s+(\d+)", line)
            if m:
                nrs[m.group(1)] = int(m.group(2))
    allow = sorted(nrs[n] for n in names if n in nrs)
    ins = [(0x20, 0, 0, 4),                      # A = arch
           (0x15, 1, 0, AUDIT_ARCH_X86_64),      # native: skip the next
           (0x06, 0, 0, RET_EPERM),
           (0x20, 0, 0, 0)]                      # A = nr
    for nr in allow:
        ins += [(0x15, 0, 1, nr), (0x06, 0, 0, RET_ALLOW)]
    ins.append((0x06, 0, 0, RET_EPERM))
    arr = (SockFilter * len(ins))(*[SockFilter(*i) for i in ins])
    return arr, len(allow)


def sandbox_preexec(prog):
    def preexec():
        mdwe_preexec()
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
        fprog = SockFprog(len(prog), ctypes.cast(prog, ctypes.POINTER(SockFilter)))
        if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")
    return preexec


def mdwe_supported():
    """PR_SET_MDWE works here and really refuses a W+X mapping in the child
    (and across exec, which is what the earshot run relies on)."""
    probe = ("import mmap,sys\n"
             "try:\n"
             "    mmap.mmap(-1, 4096, prot=mmap.PROT_READ|mmap.PROT_WRITE|mmap.PROT_EXEC)\n"
             "except OSError:\n"
             "    sys.exit(0)\n"
             "sys.exit(3)\n")
    try:
        r = subprocess.run([sys.executable, "-c", probe], preexec_fn=mdwe_preexec, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        rh.log("PR_SET_MDWE unavailable: %s" % e)
        return None
    return r.returncode == 0


def main():
    earshot = os.path.abspath(sys.argv[1])
    build = os.path.dirname(earshot)
    ck = rh.Checker("test_package_deb")
    for tool in ("cpack", "dpkg-deb", "dpkg"):
        if not shutil.which(tool):
            print("test_package_deb: FAIL: %s not found (Debian: dpkg, cmake)" % tool)
            return 1
    tmp = tempfile.mkdtemp(prefix="earshot-it-deb.")
    try:
        return run(ck, earshot, build, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(ck, earshot, build, tmp):
    version = sh([earshot, "--version"]).stdout.decode().split()[-1]

    # -- build the package (the build tree is the one under test: no rebuild)
    out = os.path.join(tmp, "pkg")
    t0 = time.monotonic()
    r = sh(["cpack", "-G", "DEB", "-B", out], cwd=build, timeout=300)
    ck.check("cpack -G DEB succeeds", r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:])
    debs = [f for f in os.listdir(out) if f.endswith(".deb")] if os.path.isdir(out) else []
    if not ck.check("one .deb built", len(debs) == 1, repr(debs)):
        return ck.finish()
    deb = os.path.join(out, debs[0])
    rh.log("built %s in %.1f s" % (debs[0], time.monotonic() - t0))
    ck.eq("file name", "earshot_%s_amd64.deb" % version, debs[0])

    # -- control
    info = sh(["dpkg-deb", "-I", deb]).stdout.decode()
    f = control_fields(info)
    ck.eq("Package", "earshot", f.get("Package"))
    ck.eq("Version", version, f.get("Version"))
    deps = [d.strip() for d in f.get("Depends", "").split(",") if d.strip()]
    names = {re.split(r"[\s(]", d)[0] for d in deps}
    for lib in ("libhyperscan5", "librdkafka1", "libjansson4", "libmicrohttpd12", "libc6"):
        ck.check("Depends names %s (dpkg-shlibdeps)" % lib, lib in names, f.get("Depends", ""))
    for d in deps:
        ck.check("dependency satisfied here: %s" % d, dep_satisfied(d))
    conffiles = sh(["dpkg-deb", "-I", deb, "conffiles"]).stdout.decode().split()
    ck.eq("conffiles", ["/etc/earshot/earshot.conf"], conffiles)
    for script in ("postinst", "prerm", "postrm"):
        ck.check("control holds %s" % script, re.search(r"\b%s\b" % script, info) is not None)

    # -- contents
    listing = sh(["dpkg-deb", "-c", deb]).stdout.decode().splitlines()
    paths = {}
    for line in listing:
        parts = line.split(None, 5)
        paths[parts[5].lstrip("./")] = (parts[0], parts[1])
    files = [p for p, (mode, _) in paths.items() if not mode.startswith("d")]
    for p in REQUIRED:
        ck.check("package holds /%s" % p, p in files)
    leaks = [p for p in files if not p.startswith(ALLOWED)]
    ck.check("package holds nothing else", not leaks, repr(leaks[:5]))
    ck.check("binary is executable", paths.get("usr/bin/earshot", ("",))[0] == "-rwxr-xr-x",
             repr(paths.get("usr/bin/earshot")))
    owners = {own for _, own in paths.values()}
    ck.eq("every file owned by root/root", {"root/root"}, owners)
    n_rules = len([p for p in files if p.startswith("usr/share/earshot/rules/")])
    n_src = sum(len(fs) for _, _, fs in os.walk(rh.RULES))
    ck.eq("every rules file packaged", n_src, n_rules)

    # -- install into a scratch root; maintainer scripts run outside a chroot
    root = os.path.join(tmp, "root")
    for d in ("var/lib/dpkg/info", "var/lib/dpkg/updates"):
        os.makedirs(os.path.join(root, d))
    open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
    r = sh(["dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends",
            "--log=/dev/null", "-i", deb])
    ck.check("dpkg --root -i succeeds", r.returncode == 0, r.stderr.decode()[-2000:])
    q = sh(["dpkg-query", "--root=" + root, "-W", "-f=${Status} ${Version}", "earshot"])
    ck.eq("dpkg status", "install ok installed " + version, q.stdout.decode())
    passwd = open(os.path.join(root, "etc/passwd")).read() if os.path.exists(
        os.path.join(root, "etc/passwd")) else ""
    group = open(os.path.join(root, "etc/group")).read() if os.path.exists(
        os.path.join(root, "etc/group")) else ""
    m = re.search(r"^earshot:x:(\d+):(\d+):[^:]*:([^:]*):([^:\n]*)$", passwd, re.M)
    if shutil.which("systemd-sysusers"):
        ck.check("postinst created the earshot user", m is not None, passwd)
        if m:
            ck.check("earshot is a system uid (< 1000)", int(m.group(1)) < 1000, m.group(0))
            ck.eq("earshot's shell", "/usr/sbin/nologin", m.group(4))
            ck.eq("earshot's home", "/", m.group(3))
            ck.check("earshot group with the user's gid",
                     re.search(r"^earshot:x:%s:" % m.group(2), group, re.M) is not None, group)
    else:
        rh.log("no systemd-sysusers here: the postinst's useradd path is not exercised")

    # -- the installed binary, from /
    bin_ = os.path.join(root, "usr/bin/earshot")
    rules = os.path.join(root, "usr/share/earshot/rules")
    env = {k: v for k, v in os.environ.items() if k != "EARSHOT_RULES"}
    r = sh([bin_, "--version"], cwd="/", env=env)
    ck.eq("installed earshot --version", "earshot %s" % version, r.stdout.decode().strip())
    r = sh([bin_, "check-rules"], cwd="/", env=env)
    got = r.stdout.decode()
    ck.check("check-rules from / loads the installed rules",
             r.returncode == 0 and got.startswith("rules ok: %s\n" % rules), got + r.stderr.decode())
    src = sh([earshot, "check-rules", rh.RULES], env=env).stdout.decode()
    ver = re.compile(r"^\s*version:\s*(\S+)", re.M)
    ck.check("installed rules are the source tree's (version hash)",
             ver.search(got) and ver.search(src) and ver.search(got).group(1) == ver.search(src).group(1),
             "installed %r, source %r" % (ver.findall(got), ver.findall(src)))
    conf = os.path.join(root, "etc/earshot/earshot.conf")
    cenv = dict(env, EARSHOT_RULES_CACHE_DIR="")
    r = sh([bin_, "run", "-c", conf, "--check"], cwd="/", env=cenv)
    ck.check("the shipped config passes run --check with the installed rules",
             r.returncode == 0 and ("rules ok: %s " % rules) in r.stdout.decode(),
             r.stdout.decode() + r.stderr.decode())

    # -- the unit
    unit = os.path.join(root, "usr/lib/systemd/system/earshot.service")
    text = open(unit).read()
    ck.check("unit runs /usr/bin/earshot",
             "\nExecStart=/usr/bin/earshot run -c /etc/earshot/earshot.conf\n" in text)
    ck.check("unit runs as the earshot user", "\nUser=earshot\n" in text)
    if shutil.which("systemd-analyze"):
        r = sh(["systemd-analyze", "security", "--offline=yes", "--no-pager", unit])
        m = re.search(r"Overall exposure level for earshot\.service: (\d+\.\d+)", r.stdout.decode())
        ck.check("systemd-analyze security scores the unit", m is not None,
                 r.stdout.decode()[-1500:] + r.stderr.decode()[-500:])
        if m:
            rh.log("systemd-analyze security: exposure %s" % m.group(1))
            ck.check("exposure %s <= %.1f" % (m.group(1), MAX_EXPOSURE),
                     float(m.group(1)) <= MAX_EXPOSURE)
    else:
        rh.log("no systemd-analyze: exposure not checked")

    # -- MemoryDenyWriteExecute: run the installed earshot under W^X
    mdwe = mdwe_supported()
    if mdwe is None:
        rh.log("kernel without PR_SET_MDWE (< 6.3): sandboxed run skipped")
        return ck.finish()
    ck.check("PR_SET_MDWE refuses a W+X mapping in a child after exec", mdwe)
    names = unit_syscalls(text) if shutil.which("systemd-analyze") else None
    if names is None or os.uname().machine != "x86_64" or not os.path.exists(UNISTD):
        rh.log("no systemd-analyze syscall-filter or not x86_64: SystemCallFilter not emulated")
        preexec = mdwe_preexec
    else:
        prog, n = seccomp_program(names)
        rh.log("seccomp allow-list from the unit: %d system calls" % n)
        for must_not in ("reboot", "mount", "setrlimit", "sched_setaffinity"):
            ck.check("unit filter denies %s" % must_not, must_not not in names)
        for must in ("epoll_wait", "futex", "sendmsg", "mmap", "inotify_add_watch",
                     "setpriority"):
            ck.check("unit filter allows %s" % must, must in names)
        # The filter itself bites: a denied call fails with EPERM after exec.
        probe = ("import os,sys\ntry:\n    os.sched_setaffinity(0, os.sched_getaffinity(0))\n"
                 "except PermissionError:\n    sys.exit(0)\nsys.exit(3)\n")
        r = subprocess.run([sys.executable, "-c", probe], preexec_fn=sandbox_preexec(prog),
                           timeout=30)
        ck.eq("under the filter, sched_setaffinity (@resources) fails with EPERM: exit", 0,
              r.returncode)
        preexec = sandbox_preexec(prog)
    if mdwe:
        run_sandboxed(ck, earshot, bin_, conf, cenv, tmp, preexec)
    return ck.finish()


def run_sandboxed(ck, earshot, bin_, conf, env, tmp, preexec):
    lines = rh.generate(earshot, N, seed=23)
    exp = rh.Expected(earshot, lines)
    broker = rh.MockBroker(earshot, partitions=2, brokers=1, workdir=tmp)
    failed_before = ck.failed
    proc, logf = None, open(os.path.join(tmp, "run.log"), "wb")
    try:
        prod = rh.Producer(broker.bootstrap)
        prod.send(lines)
        prod.positions()
        prod.close()
        # The shipped config as it is, but for this broker, plaintext, the
        # fixtures' old dates (rh.Earshot explains) and a free metrics port
        # (9464 may be taken on a shared machine).
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        hport = sock.getsockname()[1]
        sock.close()
        args = [bin_, "run", "-c", conf, "-b", broker.bootstrap, "-g", "it-deb",
                "-X", "security.protocol=plaintext", "--set", "threads=2",
                "--set", "consumer.auto.offset.reset=earliest", "--set", "tickets.max_age=0",
                "--set", "status.interval.ms=500",
                "--set", "metrics.listen=127.0.0.1:%d" % hport] + list(rh.MOCK_GROUP_ARGS)
        proc = subprocess.Popen(args, cwd="/", env=env, stdout=logf, stderr=logf,
                                stdin=subprocess.DEVNULL, preexec_fn=preexec)
        try:
            with open("/proc/%d/status" % proc.pid) as f:
                status = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
        except OSError:
            status = {}
        if preexec is not mdwe_preexec:
            ck.eq("sandboxed: the process runs under the seccomp filter (Seccomp)", "2",
                  status.get("Seccomp", "").strip())
            ck.eq("sandboxed: NoNewPrivs", "1", status.get("NoNewPrivs", "").strip())
        want = dict(zip(rh.OUT_TOPICS, exp.counts()))
        got = rh.wait_for_outputs(broker.bootstrap, want, timeout=120,
                                  proc_alive=lambda: proc.poll() is None)
        ck.eq("sandboxed: outputs (enriched, tickets, rejected)", want, got)
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % hport, timeout=5) as r:
                page = r.read().decode()
        except OSError as e:
            page = repr(e)
        ck.check("sandboxed: /metrics answers with every post consumed",
                 re.search(r"^earshot_consumed_total %d$" % N, page, re.M) is not None, page[:300])
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rc = None
        ck.eq("sandboxed: SIGTERM exit status", 0, rc)
        logf.flush()
        with open(os.path.join(tmp, "run.log"), errors="replace") as f:
            denied = [l for l in f if "not permitted" in l or "EPERM" in l]
        ck.check("sandboxed: no call refused in the log", not denied, "".join(denied[:5]))
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        logf.close()
        broker.stop()
    if ck.failed > failed_before:
        with open(os.path.join(tmp, "run.log"), errors="replace") as f:
            print("---- run log tail\n" + "".join(f.readlines()[-30:]))


if __name__ == "__main__":
    sys.exit(main())
