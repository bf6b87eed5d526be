"""The event contract (schema/*.schema.json) as the tests hold outputs to it.

Owns: loading every schema file, checking each is a valid 2020-12 schema
(check_schema), resolving the $refs between them from the files (never the
network), and format checking that really runs: Debian's jsonschema checks
no "date-time" or "uri" without optional modules, so both are registered
here (RFC 3339 via datetime, an absolute URI via urllib) and a self-test
proves a bad date is refused.
"""

import datetime
import glob
import json
import os
import urllib.parse

import jsonschema
from jsonschema import Draft202012Validator

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("EARSHOT_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..", "..")))
SCHEMA_DIR = os.path.join(SRC, "schema")


def _format_checker():
    fc = jsonschema.FormatChecker(Draft202012Validator.FORMAT_CHECKER.checkers.keys())

    @fc.checks("date-time", raises=ValueError)
    def _date_time(s):
        if not isinstance(s, str):
            return True
        if "T" not in s.upper() or s[-1] not in "Zz" and s[-6] not in "+-":
            raise ValueError("not an RFC 3339 date-time with a zone: %r" % s)
        datetime.datetime.fromisoformat(s[:-1] + "+00:00" if s[-1] in "Zz" else s)
        return True

    @fc.checks("uri", raises=ValueError)
    def _uri(s):
        if not isinstance(s, str):
            return True
        u = urllib.parse.urlsplit(s)
        if not u.scheme or any(c.isspace() for c in s):
            raise ValueError("not an absolute URI: %r" % s)
        return True

    return fc


class Schemas:
    """validator(name) for "event", "ticket", "reject", "brand-stats", ..."""

    def __init__(self):
        self.docs = {}
        for path in sorted(glob.glob(os.path.join(SCHEMA_DIR, "*.schema.json"))):
            with open(path) as f:
                doc = json.load(f)
            Draft202012Validator.check_schema(doc)  # raises SchemaError
            name = os.path.basename(path)[:-len(".schema.json")]
            self.docs[name] = doc
        self.store = {d["$id"]: d for d in self.docs.values()}
        self.fc = _format_checker()

    def validator(self, name):
        doc = self.docs[name]
        resolver = jsonschema.RefResolver(doc["$id"], doc, store=self.store)
        return Draft202012Validator(doc, resolver=resolver, format_checker=self.fc)

    def bad(self, name, records, limit=3):
        """[(index, message)] of records that do not validate, at most limit."""
        v = self.validator(name)
        out = []
        for i, r in enumerate(records):
            errs = sorted(v.iter_errors(r), key=lambda e: list(e.path))
            if errs:
                e = errs[0]
                out.append((i, "%s at %s: %s" % (name, "/".join(map(str, e.path)) or "(root)",
                                                 e.message[:300])))
                if len(out) >= limit:
                    break
        return out
