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

}  // namespace
}  // namespace vigil::api::librato
