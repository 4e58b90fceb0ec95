#include <gtest/gtest.h>

#include "connectors/notify/http_client.hpp"

namespace vigil::connectors {
namespace {

TEST(HttpClient, parses_urls) {
  ParsedUrl u;
  std::string err;
  ASSERT_TRUE(parse_url("https://events.pagerduty.com/v2/enqueue", u, err));
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "events.pagerduty.com");
  EXPECT_EQ(u.port, "443");
  EXPECT_EQ(u.target, "/v2/enqueue");
  ASSERT_TRUE(parse_url("http://127.0.0.1:8080?x=1", u, err));
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.port, "8080");
  EXPECT_EQ(u.target, "/?x=1");
  ASSERT_TRUE(parse_url("http://[::1]:9000/h", u, err));
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, "9000");
  EXPECT_FALSE(parse_url("ftp://x/", u, err));
}

}  // namespace
}  // namespace vigil::connectors
