"""End to end: spaces and charts — create, list, search, retrieve, update, delete; chart types and
streams of metric + source, metric + tags, or composite; validation errors; persistence."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish, hdr  # noqa: E402

A = args()
FORM = "application/x-www-form-urlencoded"


v = Vigil(A.vigil)
try:
    v.start()
    v.post_json("/v1/measurements", {"measurements": [{"name": "reqs", "value": 1}]})
    v.post_form("/v1/metrics", [("counters[0][name]", "hits"), ("counters[0][value]", "1")])
    # -- spaces --------------------------------------------------------------------------------------
    st, text, h = v.request("POST", "/v1/spaces", "name=CPUs", FORM)
    eq(st, 201, "POST /v1/spaces (form) -> 201")
    cpus = json.loads(text)
    eq(hdr(h, "Location"), "/v1/spaces/%d" % cpus["id"], "Location of the space")
    eq(cpus["name"], "CPUs", "space body")
    st, text, _ = v.post_json("/v1/spaces", {"name": "staging_ops"})
    ops = json.loads(text)
    st, text, _ = v.post_json("/v1/spaces", {"name": "prod_ops", "tags": True})
    eq((st, json.loads(text).get("tags")), (201, True), "space with tags")
    prod = json.loads(text)
    eq(v.post_json("/v1/spaces", {})[0], 400, "space without name -> 400")
    eq(v.request("POST", "/v1/spaces", "name=x", "text/plain")[0], 415, "other content type -> 415")
    st, r = v.get_json("/v1/spaces")
    eq([s["name"] for s in r["spaces"]], ["CPUs", "prod_ops", "staging_ops"], "spaces ordered by name")
    eq(r["query"], {"found": 3, "length": 3, "offset": 0, "total": 3}, "spaces query block")
    st, r = v.get_json("/v1/spaces", {"name": "ops"})
    eq([s["name"] for s in r["spaces"]], ["prod_ops", "staging_ops"], "?name= search")
    st, r = v.get_json("/v1/spaces", {"name": "ops", "length": 1, "offset": 1})
    eq(([s["name"] for s in r["spaces"]], r["query"]["found"]), (["staging_ops"], 2), "search with pagination")
    eq(v.get_json("/v1/spaces", {"length": 0})[0], 400, "length 0 -> 400")
    st, text, _ = v.request("PUT", "/v1/spaces/%d" % ops["id"], "name=MEMORY", FORM)
    eq((st, text), (204, ""), "PUT /v1/spaces/:id -> 204")
    eq(v.get_json("/v1/spaces/%d" % ops["id"])[1]["name"], "MEMORY", "space renamed")
    # Space names need not be unique (clients create "my space" several times and find spaces by
    # name): a second space of an existing name, and a rename onto one, are accepted.
    st, text, _ = v.post_json("/v1/spaces", {"name": "cpus"})
    twin = json.loads(text) if st == 201 else {}
    eq((st, twin.get("name")), (201, "cpus"), "a second space may share a name (any case) -> 201")
    check(twin.get("id") not in (None, cpus["id"]), "the twin space has its own id")
    eq(v.request("PUT", "/v1/spaces/%d" % ops["id"], "name=CPUs", FORM)[0], 204, "rename onto an existing name -> 204")
    st, r = v.get_json("/v1/spaces", {"name": "cpus"})
    eq(sorted(s["id"] for s in r["spaces"]), sorted([cpus["id"], twin.get("id"), ops["id"]]),
       "?name= finds every space of the shared name")
    eq(v.request("PUT", "/v1/spaces/%d" % ops["id"], "name=MEMORY", FORM)[0], 204, "renamed back")
    eq(v.request("DELETE", "/v1/spaces/%d" % twin.get("id", 0))[0], 204, "the twin space deleted")
    eq(v.request("PUT", "/v1/spaces/9999", "name=x", FORM)[0], 404, "PUT an unknown space -> 404")
    eq(v.get_json("/v1/spaces/9999")[0], 404, "unknown space -> 404")
    eq(v.get_json("/v1/spaces/abc")[0], 404, "non-numeric space id -> 404")

    # -- charts --------------------------------------------------------------------------------------
    base = "/v1/spaces/%d/charts" % cpus["id"]
    st, text, h = v.request("POST", base, "&".join([
        "type=line", "name=Server Temperature",
        "streams[0][metric]=reqs", "streams[0][source]=app1",
        "streams[1][metric]=hits", "streams[1][source]=*", "streams[1][group_function]=breakout",
        "streams[1][summary_function]=average", "streams[1][color]=%2352D74C",
        "streams[2][metric]=reqs", "streams[2][source]=%25", "streams[2][group_function]=average"]), FORM)
    eq(st, 201, "POST a line chart (form) -> 201")
    line = json.loads(text)
    eq(hdr(h, "Location"), base + "/%d" % line["id"], "Location of the chart")
    eq((line["name"], line["type"], len(line["streams"])), ("Server Temperature", "line", 3), "chart body")
    s0, s1, s2 = line["streams"]
    eq({k: s0[k] for k in ("metric", "source", "type")}, {"metric": "reqs", "source": "app1", "type": "gauge"}, "stream 0")
    eq({k: s1[k] for k in ("metric", "source", "type", "group_function", "summary_function", "color")},
       {"metric": "hits", "source": "*", "type": "counter", "group_function": "breakout",
        "summary_function": "average", "color": "#52D74C"}, "stream 1 (counter metric)")
    eq(s2["source"], "%", "dynamic source %")
    check(all(isinstance(s.get("id"), int) for s in line["streams"]), "streams have ids")
    st, text, _ = v.post_json(base, {"name": "Stacked", "type": "stacked", "min": 0, "max": 100, "label": "%",
                                     "streams": [{"metric": "reqs", "tags": [{"name": "region", "values": ["us-*"]}]}]})
    eq(st, 201, "POST a stacked chart with a tags stream (JSON)")
    stacked = json.loads(text)
    eq((stacked["type"], stacked["min"], stacked["max"], stacked["streams"][0]["tags"]),
       ("stacked", 0, 100, [{"name": "region", "values": ["us-*"]}]), "stacked chart body")
    st, text, _ = v.post_json(base, {"name": "Big", "type": "bignumber",
                                     "streams": [{"composite": 'sum(s("reqs", "*"))'}]})
    eq(st, 201, "POST a bignumber chart with a composite stream")
    big = json.loads(text)
    eq((big["type"], big["streams"][0]["composite"], big["streams"][0]["type"]),
       ("bignumber", 'sum(s("reqs", "*"))', "composite"), "composite stream")
    # errors
    for what, body in [("no name", {"streams": [{"metric": "reqs"}]}),
                       ("no streams", {"name": "x"}),
                       ("bad type", {"name": "x", "type": "pie", "streams": [{"metric": "reqs"}]}),
                       ("stream without metric", {"name": "x", "streams": [{"source": "*"}]}),
                       ("composite with metric", {"name": "x", "streams": [{"composite": "s(\"a\",\"*\")", "metric": "a"}]}),
                       ("malformed composite", {"name": "x", "streams": [{"composite": "sum(s(\"a\", \"*\")"}]}),
                       ("bad group_function", {"name": "x", "streams": [{"metric": "a", "group_function": "median"}]}),
                       ("bad summary_function", {"name": "x", "streams": [{"metric": "a", "summary_function": "p99"}]}),
                       ("bad color", {"name": "x", "streams": [{"metric": "a", "color": "red"}]}),
                       ("bad min", {"name": "x", "min": "low", "streams": [{"metric": "a"}]}),
                       ("source with tags", {"name": "x", "streams": [{"metric": "a", "source": "*", "tags": [{"name": "h"}]}]})]:
        st, text, _ = v.post_json(base, body)
        eq(st, 400, "chart with %s -> 400" % what)
        check("params" in json.loads(text).get("errors", {}), "chart error (%s) names params" % what)
    eq(v.post_json("/v1/spaces/9999/charts", {"name": "x", "streams": [{"metric": "a"}]})[0], 404, "chart in an unknown space -> 404")

    st, r = v.get_json(base)
    eq((st, [c["id"] for c in r]), (200, [line["id"], stacked["id"], big["id"]]), "GET charts of a space: a plain list")
    st, r = v.get_json("/v1/spaces/%d" % cpus["id"])
    eq(r["charts"], [{"id": line["id"]}, {"id": stacked["id"]}, {"id": big["id"]}], "space lists its chart ids")
    st, r = v.get_json(base + "/%d" % line["id"])
    eq((st, r), (200, line), "GET a chart")
    eq(v.get_json(base + "/9999")[0], 404, "unknown chart -> 404")
    eq(v.get_json("/v1/spaces/%d/charts/%d" % (prod["id"], line["id"]))[0], 404, "chart of another space -> 404")
    st, text, _ = v.request("PUT", base + "/%d" % line["id"], "name=Temperature", FORM)
    eq((st, json.loads(text)["name"], len(json.loads(text)["streams"])), (200, "Temperature", 3), "PUT renames, keeps streams")
    st, text, _ = v.request("PUT", base + "/%d" % line["id"], "type=line&streams[0][composite]=divide([sum(s(\"a\",\"*\")),sum(s(\"b\",\"*\"))])", FORM)
    eq((st, [s.get("composite") for s in json.loads(text)["streams"]]), (200, ['divide([sum(s("a","*")),sum(s("b","*"))])']),
       "PUT with streams replaces the streams")
    eq(v.request("PUT", base + "/%d" % line["id"], "type=pie", FORM)[0], 400, "PUT with a bad type -> 400")
    st, text, _ = v.request("DELETE", base + "/%d" % stacked["id"])
    eq((st, text), (204, ""), "DELETE a chart -> 204")
    eq(v.get_json(base + "/%d" % stacked["id"])[0], 404, "deleted chart -> 404")
    eq(v.request("PATCH", base)[0], 405, "PATCH charts -> 405")

    # -- persistence and space delete ------------------------------------------------------------------
    eq(v.stop(), 0, "stops")
    v.start()
    st, r = v.get_json(base)
    eq([c["id"] for c in r], [line["id"], big["id"]], "charts survive a restart")
    st, text, _ = v.post_json("/v1/spaces", {"name": "after"})
    check(json.loads(text)["id"] > prod["id"], "space ids are not reused")
    st, _, _ = v.request("DELETE", "/v1/spaces/%d" % cpus["id"])
    eq(st, 204, "DELETE a space -> 204")
    eq(v.get_json("/v1/spaces/%d" % cpus["id"])[0], 404, "deleted space -> 404")
    eq(v.get_json(base + "/%d" % line["id"])[0], 404, "its charts are gone")
    eq(v.request("DELETE", "/v1/spaces/%d" % cpus["id"])[0], 404, "DELETE it again -> 404")
finally:
    v.cleanup()
finish()
