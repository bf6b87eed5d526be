#!/usr/bin/env python3
"""The care dashboard in a real browser: `earshot run --http` on the embedded
broker with the in-run aggregator (the default), read by headless Chromium.

Input, dated relative to now so the page's "due in" has a real clock:
  posts.enriched: enriched events (the fields `earshot run` writes) for the
    28 minutes before the last whole minute: comcast at 6 complaints a
    minute, dell at 4, and a 10x comcast spike 6 minutes ago; complaints and
    questions carry respond_by = created_at + 15 min (priority >= 80) or
    + 60 min; then a brandless event that moves the watermark past them all.
  posts: 3 lines that are not JSON, so the reject table has a reason.
Checks, first on the JSON API, then on the page as Chromium renders it:
  /api/brands names exactly comcast and dell, with the spike minute's rate;
  /api/alerts holds exactly one spike, for comcast at the spike's minute;
  /api/tickets is sorted by due_in_s and has both "due in" and overdue ones;
  /api/rejects counts the 3 lines as not_json;
  the page shows both brand names with an SVG chart each, the spike alert,
  a ticket whose due cell reads "due in N min", and not_json; a screenshot
  goes to <build dir>/dashboard.png.
Skips (exit 0, "SKIP: ...") only when chromium or chromedriver is absent.

usage: test_dashboard_browser.py EARSHOT_BINARY
"""
import calendar
import json
import os
import random
import re
import shutil
import signal
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402
from kafka import KafkaProducer  # noqa: E402

BRANDS = {"comcast": ("Comcast", 6), "dell": ("Dell", 4)}
SPIKE_AGO = 6  # minutes before the last whole minute


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def events(t_end, rng):
    """Minutes [t_end - 28 min, t_end); t_end is a whole minute."""
    out, n = [], 0
    for m in range(28, 0, -1):
        start = t_end - m * 60
        for b, (name, rate) in BRANDS.items():
            n_c = rate * 10 if (b == "comcast" and m == SPIKE_AGO) else rate
            for pol in ["complaint"] * n_c + ["question"] * 2 + ["praise"] * 2:
                n += 1
                t = start + rng.randint(0, 59)
                r = rng.random()  # ~12% tickets: fewer than the 64 the page keeps
                prio = 85 if r < 0.08 else 45 if r < 0.12 else 20
                e = {"id": "d%06d" % n, "platform": "twitter", "created_at": iso(t),
                     "author": {"handle": "user%d" % n, "followers": rng.randint(0, 5000),
                                "verified": False},
                     "lang": "en", "text": "my %s %s is broken again" % (name, pol),
                     "is_retweet": False, "is_reply": False,
                     "brands": [{"id": b, "name": name}], "polarity": pol,
                     "labels": ["outage"], "matched_rules": [], "priority": prio}
                if pol in ("complaint", "question"):
                    e["respond_by"] = iso(t + (15 if prio >= 80 else 60) * 60)
                out.append(e)
    out.sort(key=lambda e: e["created_at"])
    out.append({"id": "watermark", "created_at": iso(t_end + 31), "brands": [],
                "polarity": "neutral", "priority": 0})
    return out


def api(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return json.loads(r.read())


def http_port(run, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(r"metrics on http://\S+ \(port (\d+)\)", run.text())
        if m:
            return int(m.group(1))
        if not run.alive():
            break
        time.sleep(0.2)
    raise RuntimeError("earshot run printed no HTTP port:\n" + run.tail())


def browser_check(ck, url, shot):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1400,1000"):
        opts.add_argument(a)
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        drv.get(url)
        WebDriverWait(drv, 30).until(
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "1"
            and d.find_elements(By.CSS_SELECTOR, "#alerts .alert")
            and d.find_elements(By.CSS_SELECTOR, "#tickets tr"))
        brands = [e.get_attribute("data-brand")
                  for e in drv.find_elements(By.CSS_SELECTOR, "#brands .brand")]
        ck.eq("page: brand rows", ["comcast", "dell"], sorted(brands))
        charts = drv.find_elements(By.CSS_SELECTOR, "#brands .brand svg polyline")
        ck.eq("page: one SVG complaint line per brand", 2, len(charts))
        names = drv.find_element(By.ID, "brands").text
        ck.check("page: brand names shown", "Comcast" in names and "Dell" in names, names[:200])
        ck.check("page: comcast row marked alerting",
                 bool(drv.find_elements(By.CSS_SELECTOR, ".brand.alerting[data-brand=comcast]")))
        alerts = drv.find_elements(By.CSS_SELECTOR, "#alerts .alert")
        ck.eq("page: alerts shown", 1, len(alerts))
        ck.check("page: the alert is comcast's spike",
                 alerts and alerts[0].get_attribute("data-type") == "spike"
                 and alerts[0].text.startswith("Comcast spike: 60 complaints"),
                 alerts[0].text if alerts else "")
        dues = [e.text for e in drv.find_elements(By.CSS_SELECTOR, "#tickets td.due")]
        ck.check("page: a ticket reads 'due in N min'",
                 any(re.fullmatch(r"due in \d+ min", d) for d in dues), str(dues[:8]))
        ck.check("page: an overdue ticket reads 'N min overdue'",
                 any(re.fullmatch(r"\d+ min overdue", d) for d in dues), str(dues[:8]))
        ck.check("page: reject reason not_json shown",
                 "not_json 3" in drv.find_element(By.ID, "rejects").text,
                 drv.find_element(By.ID, "rejects").text)
        drv.save_screenshot(shot)
        ck.check("screenshot saved", os.path.getsize(shot) > 10000, shot)
        rh.log("screenshot: %s" % shot)
    finally:
        drv.quit()


def main():
    earshot = sys.argv[1]
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        print("SKIP: chromium and chromedriver are needed for the browser test "
              "(Debian: apt-get install chromium chromium-driver python3-selenium)")
        return 0
    ck = rh.Checker("test_dashboard_browser")
    wd = rh.workdir("dash")
    rng = random.Random(5)
    t_end = int(time.time()) // 60 * 60
    evs = events(t_end, rng)
    spike_start = iso(t_end - SPIKE_AGO * 60)
    broker = rh.MockBroker(earshot, partitions=4, brokers=1, workdir=wd)
    run = None
    try:
        p = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=5)
        for e in evs:
            key = e["brands"][0]["id"].encode() if e["brands"] else b"watermark"
            p.send("posts.enriched", key=key, value=json.dumps(e).encode())
        for i in range(3):
            p.send("posts", value=b"this is not json %d" % i)
        p.flush(timeout=60)
        p.close(timeout=10)
        run = rh.Earshot(earshot, broker.bootstrap, "it-dash", wd, args=["--http", "127.0.0.1:0"])
        port = http_port(run)
        deadline = time.monotonic() + 90
        alerts = {"alerts": []}
        while time.monotonic() < deadline and run.alive():
            alerts = api(port, "/api/alerts")
            if alerts["alerts"] and api(port, "/api/rejects")["rejects"][0]["count"] == 3 \
                    and api(port, "/api/brands")["through"] == iso(t_end):
                break
            time.sleep(0.5)
        brands = api(port, "/api/brands")
        tickets = api(port, "/api/tickets")
        rejects = api(port, "/api/rejects")
        ck.eq("api: brands", ["comcast", "dell"], sorted(b["id"] for b in brands["brands"]))
        ck.eq("api: windows closed through the last whole minute", iso(t_end),
              brands["through"])
        com = [b for b in brands["brands"] if b["id"] == "comcast"][0]
        ck.eq("api: comcast complaints/min in the spike minute", 60.0,
              com["complaints_per_min"][-SPIKE_AGO])
        ck.eq("api: comcast complaints in the hour", 27 * 6 + 60, com["complaints_hour"])
        got = [(a["type"], a["brand"]["id"], a["window_start"], a["active"])
               for a in alerts["alerts"]]
        ck.eq("api: alerts", [("spike", "comcast", spike_start, True)], got)
        dues = [t["due_in_s"] for t in tickets["tickets"]]
        now = calendar.timegm(time.strptime(tickets["now"], "%Y-%m-%dT%H:%M:%SZ"))
        want = sorted(calendar.timegm(time.strptime(e["respond_by"], "%Y-%m-%dT%H:%M:%SZ"))
                      - now
                      for e in evs if "respond_by" in e and e["priority"] >= 30)
        rh.log("%d tickets in the input" % len(want))
        # due_in_s is computed from ms; the page's "now" is whole seconds.
        ck.check("api: the 30 most urgent tickets, sorted by time left",
                 len(dues) == 30 and all(abs(a - b) <= 1 for a, b in zip(dues, want[:30])),
                 "got %s, want %s" % (dues, want[:30]))
        ck.check("api: overdue and not yet due tickets",
                 dues and dues[0] < 0 and dues[-1] > 0, str(dues))
        ck.eq("api: rejects not_json", {"reason": "not_json", "count": 3},
              rejects["rejects"][0])
        metrics = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port).read().decode()
        ck.check("metrics: earshot_alerts_total{brand=comcast,type=spike} 1",
                 'earshot_alerts_total{brand="comcast",type="spike"} 1\n' in metrics)
        ck.check("metrics: earshot_watch_window_lag_seconds",
                 re.search(r"^earshot_watch_window_lag_seconds \d", metrics, re.M) is not None)
        shot = os.path.join(os.path.dirname(os.path.abspath(earshot)), "dashboard.png")
        browser_check(ck, "http://127.0.0.1:%d/" % port, shot)
        rc, _ = run.signal_and_wait(signal.SIGTERM, 30)
        ck.eq("earshot run exit status", 0, rc)
    finally:
        if run:
            run.ensure_dead()
            if ck.failed:
                rh.log(run.tail(40))
        broker.stop()
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
