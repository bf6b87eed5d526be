#!/usr/bin/env python3
"""deploy/kubernetes/ (issue 11, item 8), without a cluster (none here: no
kubectl, no kubeconform), so: the manifests parse as YAML and hang together
(names, selectors, ports, mounts, env), and the pieces earshot itself reads
are fed to the real binary:
  - earshot.yaml: a ConfigMap, a headless Service, a StatefulSet, a PDB;
    selectors match the pod labels; the pod's group.instance.id comes from
    its name (EARSHOT_GROUP_INSTANCE_ID, fieldRef metadata.name), threads
    from its CPU request; Prometheus scrape annotations name the metrics
    port; the probes are /healthz and /readyz on it; the config, rules and
    cache mounts are where the config says; grace period > shutdown.timeout;
    non-root, read-only root, no capabilities;
  - the ConfigMap's earshot.conf passes `earshot run --check`, and with the
    pod's environment `--print-config` shows the pod name as
    group.instance.id and the CPU request as threads;
  - that config runs on the embedded broker and the probe paths of the
    manifest answer 200 once partitions are assigned;
  - prometheus-scrape.yml keeps annotated earshot pods and relabels them to
    job "earshot", the job the alert rules select.

usage: test_deploy_kubernetes.py EARSHOT_BINARY
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402
import yaml  # noqa: E402

K8S = os.path.join(rh.SRC, "deploy", "kubernetes")


def conf_keys(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_deploy_kubernetes")
    wd = rh.workdir("deploy-k8s")
    try:
        check(ck, earshot, wd)
    finally:
        shutil.rmtree(wd, ignore_errors=True)
    return ck.finish()


def check(ck, earshot, wd):
    with open(os.path.join(K8S, "earshot.yaml")) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    by_kind = {d["kind"]: d for d in docs}
    ck.eq("kinds", ["ConfigMap", "PodDisruptionBudget", "Service", "StatefulSet"],
          sorted(by_kind))
    cm, svc, sts, pdb = (by_kind.get(k, {}) for k in
                         ("ConfigMap", "Service", "StatefulSet", "PodDisruptionBudget"))
    for d in docs:
        ck.check("%s has apiVersion and metadata.name" % d["kind"],
                 d.get("apiVersion") and d.get("metadata", {}).get("name"))
    spec = sts["spec"]
    pod = spec["template"]
    labels = pod["metadata"]["labels"]
    sel_ok = lambda sel: all(labels.get(k) == v for k, v in sel.items()) and sel
    ck.check("StatefulSet selector matches its pods", sel_ok(spec["selector"]["matchLabels"]))
    ck.check("Service selector matches the pods", sel_ok(svc["spec"]["selector"]))
    ck.check("PDB selector matches the pods", sel_ok(pdb["spec"]["selector"]["matchLabels"]))
    ck.eq("StatefulSet serviceName", svc["metadata"]["name"], spec.get("serviceName"))
    ck.eq("Service is headless", "None", svc["spec"].get("clusterIP"))

    conf_text = cm["data"]["earshot.conf"]
    conf = conf_keys(conf_text)
    ck.check("group.instance.id not fixed in the shared config (one id per pod)",
             "group.instance.id" not in conf)
    port = int(conf["metrics.listen"].rsplit(":", 1)[1])
    ann = pod["metadata"].get("annotations", {})
    ck.eq("prometheus.io/scrape", "true", ann.get("prometheus.io/scrape"))
    ck.eq("prometheus.io/port = metrics.listen's port", str(port), ann.get("prometheus.io/port"))
    ck.eq("prometheus.io/path", "/metrics", ann.get("prometheus.io/path"))

    podspec = pod["spec"]
    c = [x for x in podspec["containers"] if x["name"] == "earshot"]
    if not ck.check("one container named earshot", len(c) == 1):
        return
    c = c[0]
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    ck.eq("container port 'metrics' = metrics.listen's port", port, ports.get("metrics"))
    svc_port = svc["spec"]["ports"][0]
    ck.check("Service targets the metrics port",
             svc_port.get("targetPort") in ("metrics", port), repr(svc_port))
    probes = {}
    for kind in ("readinessProbe", "livenessProbe"):
        hg = c.get(kind, {}).get("httpGet", {})
        ck.check("%s on the metrics port" % kind, hg.get("port") in ("metrics", port), repr(hg))
        probes[kind] = hg.get("path")
    ck.eq("probe paths", {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}, probes)

    env = {e["name"]: e for e in c.get("env", [])}
    gid = env.get("EARSHOT_GROUP_INSTANCE_ID", {}).get("valueFrom", {}).get("fieldRef", {})
    ck.eq("group.instance.id from the pod name", "metadata.name", gid.get("fieldPath"))
    thr = env.get("EARSHOT_THREADS", {}).get("valueFrom", {}).get("resourceFieldRef", {})
    ck.eq("threads from the CPU request", "requests.cpu", thr.get("resource"))
    cpu = c.get("resources", {}).get("requests", {}).get("cpu")
    ck.check("a whole-CPU request (threads is an integer)", cpu and re.fullmatch(r"\d+", str(cpu)),
             repr(cpu))
    ck.check("a memory request and limit",
             c["resources"]["requests"].get("memory") and c["resources"].get("limits", {}).get("memory"))
    sec = env.get("EARSHOT_KAFKA_SASL_PASSWORD", {}).get("valueFrom", {}).get("secretKeyRef")
    ck.check("the SASL password comes from a Secret", sec is not None)

    ck.eq("args", ["run", "-c", "/etc/earshot/earshot.conf"], c.get("args"))
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v for v in podspec.get("volumes", [])}
    cfgm = mounts.get("config", {})
    ck.eq("config mounted where args read it", "/etc/earshot/earshot.conf", cfgm.get("mountPath"))
    ck.check("config volume is the ConfigMap's earshot.conf",
             vols.get("config", {}).get("configMap", {}).get("name") == cm["metadata"]["name"]
             and cfgm.get("subPath") == "earshot.conf")
    ck.eq("rules.dir = the rules mount", mounts.get("rules", {}).get("mountPath"),
          conf.get("rules.dir"))
    cache = mounts.get("cache", {}).get("mountPath", "")
    ck.check("rules.cache.dir on the writable cache volume",
             cache and conf.get("rules.cache.dir", "").startswith(cache + "/")
             and "emptyDir" in vols.get("cache", {}), repr((cache, conf.get("rules.cache.dir"))))
    grace = podspec.get("terminationGracePeriodSeconds", 30)
    ck.check("grace period %ss > shutdown.timeout.ms" % grace,
             grace * 1000 > int(conf.get("shutdown.timeout.ms", "30000")))
    psc, csc = podspec.get("securityContext", {}), c.get("securityContext", {})
    ck.check("non-root, read-only root, no capabilities, no privilege escalation",
             psc.get("runAsNonRoot") is True and csc.get("readOnlyRootFilesystem") is True
             and csc.get("capabilities", {}).get("drop") == ["ALL"]
             and csc.get("allowPrivilegeEscalation") is False)

    # The config as earshot reads it, with the pod's environment.
    path = os.path.join(wd, "earshot.conf")
    with open(path, "w") as f:
        f.write(conf_text)
    penv = {k: v for k, v in os.environ.items() if not k.startswith("EARSHOT_")}
    penv.update(EARSHOT_GROUP_INSTANCE_ID="earshot-1", EARSHOT_THREADS=str(cpu),
                EARSHOT_KAFKA_SASL_PASSWORD="x", EARSHOT_RULES_CACHE_DIR="")
    r = subprocess.run([earshot, "run", "-c", path, "--rules", rh.RULES, "--check"], env=penv,
                       capture_output=True, timeout=120)
    ck.check("ConfigMap's earshot.conf passes run --check", r.returncode == 0,
             (r.stdout + r.stderr).decode()[-1500:])
    r = subprocess.run([earshot, "run", "-c", path, "--rules", rh.RULES, "--print-config"],
                       env=penv, capture_output=True, timeout=60)
    printed = conf_keys(r.stdout.decode())
    ck.eq("effective group.instance.id", "earshot-1", printed.get("group.instance.id"))
    ck.eq("effective threads", str(cpu), printed.get("threads"))
    ck.eq("effective session timeout", "120000",
          printed.get("kafka.consumer.session.timeout.ms"))

    # That config, live: the manifest's probe paths answer.
    broker = rh.MockBroker(earshot, partitions=2, brokers=1, workdir=wd)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    hport = s.getsockname()[1]
    s.close()
    run = subprocess.Popen([earshot, "run", "-c", path, "--rules", rh.RULES, "-b", broker.bootstrap,
                            "-X", "security.protocol=plaintext", "--http", "127.0.0.1:%d" % hport]
                           + list(rh.MOCK_GROUP_ARGS), env=penv, stdout=subprocess.DEVNULL,
                           stderr=open(os.path.join(wd, "run.log"), "wb"))
    try:
        base = "http://127.0.0.1:%d" % hport
        deadline, got = time.monotonic() + 60, {}
        while time.monotonic() < deadline and run.poll() is None:
            got = {p: get(base + p) for p in probes.values()}
            if all(v == 200 for v in got.values()):
                break
            time.sleep(0.5)
        ck.eq("probe answers once partitions are assigned", {p: 200 for p in probes.values()}, got)
        ck.eq("a path the manifest does not use is 404", 404, get(base + "/nope"))
    finally:
        run.terminate()
        try:
            rc = run.wait(timeout=30)
        except subprocess.TimeoutExpired:
            run.kill()
            rc = run.wait()
        broker.stop()
    ck.eq("SIGTERM exit status", 0, rc)
    if ck.failed:
        with open(os.path.join(wd, "run.log"), errors="replace") as f:
            print("---- run log tail\n" + "".join(f.readlines()[-20:]))

    # The Prometheus scrape job for these pods.
    with open(os.path.join(K8S, "prometheus-scrape.yml")) as f:
        jobs = yaml.safe_load(f)
    ck.check("prometheus-scrape.yml is a list of one scrape job",
             isinstance(jobs, list) and len(jobs) == 1 and "kubernetes_sd_configs" in jobs[0])
    relabel = jobs[0].get("relabel_configs", [])
    keep = [r for r in relabel if r.get("action") == "keep"]
    ck.check("keeps pods annotated prometheus.io/scrape=true",
             any(r["source_labels"] == ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
                 and r["regex"] == "true" for r in keep))
    ck.check("keeps only pods labelled %s" % labels.get("app.kubernetes.io/name"),
             any(r["source_labels"] == ["__meta_kubernetes_pod_label_app_kubernetes_io_name"]
                 and r["regex"] == labels.get("app.kubernetes.io/name") for r in keep))
    ck.check("relabels to job earshot (the alert rules' job)",
             any(r.get("target_label") == "job" and r.get("replacement") == "earshot"
                 for r in relabel))
    with open(os.path.join(rh.SRC, "deploy", "prometheus", "earshot.rules.yml")) as f:
        ck.check("the alert rules select job=\"earshot\"", 'job="earshot"' in f.read())


if __name__ == "__main__":
    sys.exit(main())
