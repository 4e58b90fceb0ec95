"""End to end: sources (from submitted data and PUT), annotation streams and events with links,
search by time and source, updates and deletes, persistence across a restart."""
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
    # -- sources -----------------------------------------------------------------------------------
    st, _, _ = v.post_form("/v1/metrics", [("source", "prod.example.com"), ("gauges[0][name]", "cpu"),
                                            ("gauges[0][value]", "1"), ("gauges[1][name]", "cpu"),
                                            ("gauges[1][value]", "2"), ("gauges[1][source]", "stg1.example.com")])
    eq(st, 200, "legacy submit with sources")
    st, r = v.get_json("/v1/sources")
    eq(st, 200, "GET /v1/sources")
    eq([s["name"] for s in r["sources"]], ["prod.example.com", "stg1.example.com"], "sources from the data")
    eq(r["sources"][0]["display_name"], None, "display_name null by default")
    st, text, _ = v.request("PUT", "/v1/sources/stg1.example.com", "display_name=Staging 1", FORM)
    eq((st, text), (204, ""), "PUT an existing source -> 204")
    st, text, h = v.request("PUT", "/v1/sources/Foo.Bar.com", "display_name=FooBar", FORM)
    eq(st, 201, "PUT a new source -> 201")
    eq(hdr(h, "Location"), "/v1/sources/foo.bar.com", "Location of the new source")
    eq(json.loads(text), {"name": "foo.bar.com", "display_name": "FooBar"}, "created source body")
    st, r = v.get_json("/v1/sources/stg1.example.com")
    eq((st, r), (200, {"name": "stg1.example.com", "display_name": "Staging 1"}), "GET /v1/sources/:name")
    eq(v.get_json("/v1/sources/nope.example.com")[0], 404, "unknown source -> 404")
    st, r = v.get_json("/v1/sources", {"name": "example"})
    eq([s["name"] for s in r["sources"]], ["prod.example.com", "stg1.example.com"], "?name= substring search")
    eq((r["query"]["found"], r["query"]["total"]), (2, 3), "search query block")
    st, r = v.get_json("/v1/sources", {"length": 1, "offset": 1, "sort": "desc"})
    eq([s["name"] for s in r["sources"]], ["prod.example.com"], "pagination of sources")
    eq(v.get_json("/v1/sources", {"orderby": "id"})[0], 400, "orderby other than name -> 400")
    st, _, _ = v.request("PUT", "/v1/sources/all", "display_name=x", FORM)
    eq(st, 400, "the source name all is reserved -> 400")
    st, _, _ = v.request("PUT", "/v1/sources/x", "display_name=" + "a" * 256, FORM)
    eq(st, 400, "display_name over 255 characters -> 400")
    st, _, _ = v.request("DELETE", "/v1/sources/foo.bar.com")
    eq(st, 405, "DELETE a source -> 405")

    # -- annotations: create --------------------------------------------------------------------------
    st, text, h = v.request("POST", "/v1/annotations/app-deploys",
                            "title=Deployed v56&source=foo3.bar.com&description=v56 - Fixed typo&start_time=1234567890"
                            "&links[0][rel]=github&links[0][href]=https://github.com/x/y&links[0][label]=Commit", FORM)
    eq(st, 201, "POST /v1/annotations/:name (form) -> 201")
    e1 = json.loads(text)
    eq(hdr(h, "Location"), "/v1/annotations/app-deploys/%d" % e1["id"], "Location of the event")
    eq({k: e1[k] for k in ("title", "source", "description", "start_time", "end_time")},
       {"title": "Deployed v56", "source": "foo3.bar.com", "description": "v56 - Fixed typo",
        "start_time": 1234567890, "end_time": None}, "event properties")
    eq(e1["links"], [{"rel": "github", "href": "https://github.com/x/y", "label": "Commit"}], "event links")
    st, text, _ = v.post_json("/v1/annotations/app-deploys", {"title": "Chef run", "start_time": 1234567908,
                                                               "end_time": 1234567958, "source": "foo3.bar.com"})
    e2 = json.loads(text)
    eq(st, 201, "POST (JSON) with end_time")
    st, text, _ = v.post_json("/v1/annotations/app-deploys", {"title": "Unsourced", "start_time": 1234567800})
    e3 = json.loads(text)
    st, text, _ = v.post_json("/v1/annotations/api-deploys", {"title": "API deploy"})
    eq(st, 201, "a second stream, start_time defaults to now")
    check(abs(json.loads(text)["start_time"] - __import__("time").time()) < 60, "default start_time is now")
    st, text, _ = v.post_json("/v1/annotations/app-deploys", {"description": "no title"})
    eq(st, 400, "event without title -> 400")
    check("title" in json.loads(text)["errors"]["params"], "error names title")
    st, _, _ = v.post_json("/v1/annotations/app-deploys", {"title": "x", "start_time": 100, "end_time": 50})
    eq(st, 400, "end_time before start_time -> 400")
    st, _, _ = v.post_json("/v1/annotations/app-deploys", {"title": "x", "links": [{"rel": "a"}]})
    eq(st, 400, "link without href -> 400")
    st, _, _ = v.post_json("/v1/annotations/bad%20stream", {"title": "x"})
    eq(st, 400, "invalid stream name -> 400")
    st, _, _ = v.request("POST", "/v1/annotations/app-deploys", "title=x", "text/csv")
    eq(st, 415, "other content type -> 415")

    # -- list and search ------------------------------------------------------------------------------
    st, r = v.get_json("/v1/annotations")
    eq(r["annotations"], [{"name": "api-deploys", "display_name": None}, {"name": "app-deploys", "display_name": None}],
       "GET /v1/annotations lists the streams")
    eq(r["query"], {"found": 2, "length": 2, "offset": 0, "total": 2}, "stream list query block")
    st, r = v.get_json("/v1/annotations", {"name": "api"})
    eq([s["name"] for s in r["annotations"]], ["api-deploys"], "?name= search")
    st, r = v.get_json("/v1/annotations/app-deploys")
    eq(st, 200, "GET /v1/annotations/:name")
    ev = r["events"]
    check(isinstance(ev, dict), "events is an object keyed by source name, as the clients index it: %r" % (ev,))
    eq(sorted(ev), ["foo3.bar.com", "unassigned"], "events grouped by source")
    eq([x["id"] for x in ev["foo3.bar.com"]], [e1["id"], e2["id"]], "events ordered by start time")
    eq([x["title"] for x in ev["unassigned"]], ["Unsourced"], "events without source are unassigned")
    st, r = v.get_json("/v1/annotations/app-deploys?start_time=1234567850&end_time=1234567900")
    eq([x["id"] for s in r["events"].values() for x in s], [e1["id"]], "time interval search")
    st, r = v.get_json("/v1/annotations/app-deploys?sources%5B%5D=foo*")
    eq(sorted(r["events"]), ["foo3.bar.com"], "sources[] with wildcard")
    eq(v.get_json("/v1/annotations/nope")[0], 404, "unknown stream -> 404")

    # -- event, update, links --------------------------------------------------------------------------
    st, r = v.get_json("/v1/annotations/app-deploys/%d" % e2["id"])
    eq((st, r["title"], r["end_time"]), (200, "Chef run", 1234567958), "GET /v1/annotations/:name/:id")
    eq(v.get_json("/v1/annotations/api-deploys/%d" % e2["id"])[0], 404, "event of another stream -> 404")
    eq(v.get_json("/v1/annotations/app-deploys/99999")[0], 404, "unknown event -> 404")
    st, _, _ = v.request("PUT", "/v1/annotations/app-deploys/%d" % e3["id"], "description=Deployed git SHA 601060a&end_time=1234567899", FORM)
    eq(st, 204, "PUT an event -> 204")
    st, r = v.get_json("/v1/annotations/app-deploys/%d" % e3["id"])
    eq((r["description"], r["end_time"], r["title"]), ("Deployed git SHA 601060a", 1234567899, "Unsourced"), "event updated")
    st, _, _ = v.request("PUT", "/v1/annotations/app-deploys/%d" % e3["id"], "end_time=1", FORM)
    eq(st, 400, "PUT an end_time before start_time -> 400")
    st, text, h = v.request("POST", "/v1/annotations/app-deploys/%d/links" % e3["id"],
                            "rel=jenkins&label=CI build&href=http://ci/job/34", FORM)
    eq(st, 201, "POST a link -> 201")
    eq(hdr(h, "Location"), "/v1/annotations/app-deploys/%d/links/jenkins" % e3["id"], "link Location")
    eq(json.loads(text), {"rel": "jenkins", "label": "CI build", "href": "http://ci/job/34"}, "link body")
    st, _, _ = v.request("POST", "/v1/annotations/app-deploys/%d/links" % e3["id"], "rel=jenkins&href=http://x", FORM)
    eq(st, 422, "a second link with the same rel -> 422")
    st, _, _ = v.request("POST", "/v1/annotations/app-deploys/%d/links" % e3["id"], "rel=x", FORM)
    eq(st, 400, "link without href -> 400")
    st, text, _ = v.request("DELETE", "/v1/annotations/app-deploys/%d/links/jenkins" % e3["id"])
    eq((st, text), (204, ""), "DELETE a link -> 204")
    st, _, _ = v.request("DELETE", "/v1/annotations/app-deploys/%d/links/jenkins" % e3["id"])
    eq(st, 404, "DELETE it again -> 404")
    st, _, _ = v.request("PUT", "/v1/annotations/app-deploys", "display_name=Deploys to UX app", FORM)
    eq(st, 204, "PUT a stream's display_name -> 204")
    eq(v.get_json("/v1/annotations/app-deploys")[1]["display_name"], "Deploys to UX app", "stream display_name")
    eq(v.request("PUT", "/v1/annotations/nope", "display_name=x", FORM)[0], 404, "PUT an unknown stream -> 404")

    # -- delete and restart --------------------------------------------------------------------------
    st, _, _ = v.request("DELETE", "/v1/annotations/app-deploys/%d" % e1["id"])
    eq(st, 204, "DELETE an event -> 204")
    eq(v.get_json("/v1/annotations/app-deploys/%d" % e1["id"])[0], 404, "deleted event -> 404")
    eq(v.stop(), 0, "stops")
    v.start()
    st, r = v.get_json("/v1/annotations/app-deploys")
    eq(sorted(x["id"] for s in r["events"].values() for x in s), sorted([e2["id"], e3["id"]]), "events survive a restart")
    eq(v.get_json("/v1/sources/foo.bar.com")[1], {"name": "foo.bar.com", "display_name": "FooBar"}, "sources survive a restart")
    st, text, _ = v.post_json("/v1/annotations/app-deploys", {"title": "after restart"})
    check(json.loads(text)["id"] > e3["id"], "event ids are not reused after a restart")
    st, _, _ = v.request("DELETE", "/v1/annotations/app-deploys")
    eq(st, 204, "DELETE a stream -> 204")
    eq(v.get_json("/v1/annotations/app-deploys")[0], 404, "deleted stream -> 404")
    eq(v.get_json("/v1/annotations/app-deploys/%d" % e2["id"])[0], 404, "its events are gone")
    eq(v.request("DELETE", "/v1/annotations/app-deploys")[0], 404, "DELETE it again -> 404")
finally:
    v.cleanup()
finish()
