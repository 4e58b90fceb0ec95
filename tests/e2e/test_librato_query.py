"""End to end: tags_search on GET /v1/measurements (and, or, not, parentheses, wildcards, !=),
its exclusion with tags[...], and parse errors with their position."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402

A = args()
T0 = 1700000040
SERIES = [({"region": "us-east-1", "db": "db-prod-1"}, 1), ({"region": "us-east-2", "db": "db-dev"}, 2),
          ({"region": "us-west", "db": "db-prod-2"}, 3), ({"db": "db-prod-3"}, 4)]

v = Vigil(A.vigil)
try:
    v.start()
    st, text, _ = v.post_json("/v1/measurements", {"time": T0, "measurements": [
        {"name": "memory", "value": val, "tags": tags} for tags, val in SERIES]})
    eq(st, 200, "ingest four series")

    def search(expr, **extra):
        params = {"start_time": T0 - 60, "end_time": T0 + 60, "resolution": 60, "tags_search": expr}
        params.update(extra)
        st, r = v.get_json("/v1/measurements/memory", params)
        if st != 200:
            return st, r
        return st, sorted(s["measurements"][0]["value"] for s in r["series"])

    eq(search("region=us-east* and db=*prod*"), (200, [1]), "the seed's example: region=us-east* and db=*prod*")
    eq(search("region=us-west or db=db-dev"), (200, [2, 3]), "or")
    eq(search("not region=us-east*"), (200, [3, 4]), "not (also series without the tag)")
    eq(search("region!=us-east*"), (200, [3]), "!= requires the tag")
    eq(search("(db=db-dev or region=us-west) and db=*prod*"), (200, [3]), "parentheses")
    eq(search("db=db-dev or region=us-west and db=*prod*"), (200, [2, 3]), "and binds tighter than or")
    eq(search("not region"), (200, [4]), "a bare tag name tests presence")
    eq(search("REGION=US-EAST-? AND NOT db='db-dev'"), (200, [1]), "keywords and values case-insensitive, quotes")
    eq(search("region=none"), (200, []), "no match is an empty series list")
    eq(search("db=*prod*", group_by="*", group_by_function="sum"), (200, [8]), "tags_search with group_by")
    st, r = search("region=us-east and")
    eq(st, 400, "malformed expression -> 400")
    check("position 19" in str(r["errors"]["params"].get("tags_search")), "the error gives the position: %s" % r)
    st, r = search("(region=a")
    eq(st, 400, "unbalanced parenthesis -> 400")
    st, r = search("region=us-west", **{"tags[db]": "*"})
    eq(st, 400, "tags_search together with tags -> 400")
    check("tags_search" in r["errors"]["params"], "the error names tags_search")
finally:
    v.cleanup()
finish()
