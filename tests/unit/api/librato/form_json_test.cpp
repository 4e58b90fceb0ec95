#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/http/body.hpp"

namespace vigil::api::librato {
namespace {

using nlohmann::json;

TEST(FormJson, bracket_notation) {
  auto j = api::form_to_json({{"name", "a"},
                                                    {"conditions[0][type]", "above"},
                                                    {"conditions[0][threshold]", "5"},
                                                    {"services[]", "3"},
                                                    {"services[]", "4"},
                                                    {"attributes[runbook_url]", "http://x"}});
  EXPECT_EQ(j["name"], "a");
  ASSERT_TRUE(j["conditions"].is_array()) << "indexed keys become an array, as in a JSON body";
  EXPECT_EQ(j["conditions"][0]["type"], "above");
  EXPECT_EQ(j["conditions"][0]["threshold"], "5");
  EXPECT_EQ(j["services"], json::array({"3", "4"}));
  EXPECT_EQ(j["attributes"]["runbook_url"], "http://x");
}

TEST(FormJson, nesting_is_bounded) {
  auto name = [](std::size_t levels) {
    std::string k = "a";
    for (std::size_t i = 0; i < levels; ++i) k += i % 2 ? "[0]" : "[k]";
    return k;
  };
  // 32 levels nest as written.
  std::string err;
  auto j = api::form_to_json({{name(32), "v"}}, &err);
  EXPECT_EQ(err, "");
  const json* node = &j["a"];
  for (int i = 1; i < 32 && node->is_structured(); ++i) node = i % 2 ? &(*node)["k"] : &(*node)[0];
  EXPECT_TRUE(node->is_array() || node->is_object());
  // Deeper: the body form refuses the name, the query form keeps it flat. 200,000 levels used to
  // recurse once per level when indexes were turned into arrays.
  for (std::size_t levels : {33u, 200000u}) {
    std::string e;
    auto refused = api::form_to_json({{"b", "1"}, {name(levels), "v"}}, &e);
    EXPECT_EQ(e, "the parameter name " + name(levels).substr(0, 64) + "... nests deeper than 32 levels");
    EXPECT_EQ(refused, json::object()) << "nothing of a refused body is kept";
    auto flat = api::form_to_json({{"b", "1"}, {name(levels), "v"}});
    EXPECT_EQ(flat["b"], "1");
    EXPECT_EQ(flat[name(levels)], "v");
  }
}

TEST(FormJson, decode_body_answers_400_for_a_name_nested_too_deeply) {
  Request req;
  req.headers = {{"content-type", "application/x-www-form-urlencoded"}};
  req.body = "name=x&attributes";
  for (int i = 0; i < 5000; ++i) req.body += "%5Bk%5D";
  req.body += "=1";
  json out;
  auto e = api::decode_body(req, out);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->status, 400);
  EXPECT_NE(e->message.find("nests deeper than 32 levels"), std::string::npos) << e->message;
  EXPECT_LT(e->message.size(), 200u);
  req.body = "name=x&attributes[a][b]=1";
  EXPECT_FALSE(api::decode_body(req, out).has_value());
  EXPECT_EQ(out["attributes"]["a"]["b"], "1");
}

// Found by fuzz/form_body and fuzz/http_request: "%B5" decodes to a byte that is not UTF-8, which
// nlohmann::json refuses to serialise (type_error 316): any answer echoing the value was a 500.
TEST(FormJson, text_that_is_not_utf8_is_refused_in_bodies_and_repaired_in_queries) {
  Request req;
  req.headers = {{"content-type", "application/x-www-form-urlencoded"}};
  for (const char* body : {"name=%B5x", "na%C3me=1", "name=%ED%A0%80", "name=%C0%AF", "title=ok&%FF=1"}) {
    req.body = body;
    json out;
    auto e = api::decode_body(req, out);
    ASSERT_TRUE(e.has_value()) << body;
    EXPECT_EQ(e->status, 400) << body;
    EXPECT_NE(e->message.find("is not valid UTF-8"), std::string::npos) << e->message;
    EXPECT_NO_THROW((void)json(e->message).dump()) << "the message itself is UTF-8";
  }
  req.body = "name=caf%C3%A9&emoji=%F0%9F%98%80";
  json out;
  ASSERT_FALSE(api::decode_body(req, out).has_value());
  EXPECT_EQ(out["name"], "caf\xC3\xA9");
  EXPECT_EQ(out["emoji"], "\xF0\x9F\x98\x80");
  req.query = "name=%B5x&%FFk=v&ok=1";
  json q = api::query_json(req);
  EXPECT_EQ(q["name"], "\xEF\xBF\xBDx");
  EXPECT_EQ(q["\xEF\xBF\xBDk"], "v");
  EXPECT_EQ(q["ok"], "1");
  EXPECT_NO_THROW((void)q.dump());
}

}  // namespace
}  // namespace vigil::api::librato
