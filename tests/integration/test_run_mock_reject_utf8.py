#!/usr/bin/env python3
"""`earshot run` on the embedded broker: a rejected payload over the 256 KiB
dead-letter cut stays text when it is valid UTF-8 (issue 12 item 11). The
cut lands on a character boundary, so the record carries "payload" (the
original's longest whole-character prefix up to 256 KiB) with
"payload_truncated":true; base64 stays for bytes that are not UTF-8.

usage: test_run_mock_reject_utf8.py EARSHOT_BINARY
"""
import base64
import json
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

CUT = 256 * 1024


def payload_with_char_at_cut(char, size):
    """size bytes of a JSON post (too large for post.max_bytes) whose text
    puts the multi-byte `char` across byte CUT."""
    head = b'{"id":"big","text":"'
    enc = char.encode()
    pad = CUT - 1 - len(head)  # the char starts one byte before the cut
    body = head + b"a" * pad + enc
    body += b"b" * (size - len(body) - 2) + b'"}'
    assert body[CUT - 1:CUT - 1 + len(enc)] == enc
    return body


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_mock_reject_utf8")
    wd = rh.workdir("run-reject-utf8")
    inputs = [payload_with_char_at_cut("\u20ac", 300 * 1024),        # 3-byte euro sign
              payload_with_char_at_cut("\U0001F621", 300 * 1024),    # 4-byte emoji
              b'{"text":"' + b"\xff" * (300 * 1024) + b'"}']          # not UTF-8
    broker = rh.MockBroker(earshot, partitions=1, brokers=1, workdir=wd)
    run = None
    try:
        prod = rh.Producer(broker.bootstrap)
        prod.send(inputs)
        prod.positions()
        prod.close()
        run = rh.Earshot(earshot, broker.bootstrap, "it-reject-utf8", wd, threads=1,
                         args=rh.MOCK_GROUP_ARGS)
        rh.wait_for_outputs(broker.bootstrap, {"posts.rejected": len(inputs)}, timeout=60,
                            proc_alive=run.alive)
        recs = sorted(rh.read_topic(broker.bootstrap, "posts.rejected"),
                      key=lambda r: json.loads(r.value)["offset"])
        ck.eq("rejected records", len(inputs), len(recs))
        for i, rec in enumerate(recs[:2]):
            r = json.loads(rec.value)
            ck.check(f"utf-8 #{i} is text", "payload" in r and "payload_base64" not in r,
                     sorted(r))
            got = r.get("payload", "").encode()
            ck.check(f"utf-8 #{i} is a whole-character prefix",
                     len(got) <= CUT and inputs[i].startswith(got) and len(got) > CUT - 4,
                     f"{len(got)} bytes")
            ck.eq(f"utf-8 #{i} truncated", True, r.get("payload_truncated"))
            ck.eq(f"utf-8 #{i} payload_bytes", len(inputs[i]), r.get("payload_bytes"))
        r = json.loads(recs[2].value) if len(recs) > 2 else {}
        ck.check("not UTF-8 stays base64", "payload_base64" in r and "payload" not in r, sorted(r))
        ck.check("base64 is the first 256 KiB",
                 base64.b64decode(r.get("payload_base64", "")) == inputs[2][:CUT])
        rc, _ = run.signal_and_wait(signal.SIGTERM, 15)
        ck.eq("exit status", 0, rc)
    finally:
        if run:
            run.ensure_dead()
        broker.stop()
    rc = ck.finish()
    if rc and run:
        print(run.tail(40))
    return rc


if __name__ == "__main__":
    sys.exit(main())
