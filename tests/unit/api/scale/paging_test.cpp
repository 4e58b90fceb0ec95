#include "api/scale/paging.hpp"

#include <gtest/gtest.h>

namespace vigil::api::scale {
namespace {

TEST(ScalePaging, defaults_and_the_last_of_repeated_values) {
  Page p;
  EXPECT_EQ(parse_page({}, p), std::nullopt);
  EXPECT_EQ(p.page, 1);
  EXPECT_EQ(p.page_size, 100);
  EXPECT_EQ(parse_page({{"page", "9"}, {"page", "2"}, {"page_size", "1000"}}, p), std::nullopt);
  EXPECT_EQ(p.page, 2);
  EXPECT_EQ(p.page_size, 1000);
}

TEST(ScalePaging, malformed_values_name_the_parameter) {
  for (const char* v : {"0", "-1", "x", "", "1.5"}) {
    Page p;
    auto e = parse_page({{"page", v}}, p);
    ASSERT_TRUE(e) << v;
    EXPECT_EQ(e->param, "page");
  }
  for (const char* v : {"0", "1001", "ten"}) {
    Page p;
    auto e = parse_page({{"page_size", v}}, p);
    ASSERT_TRUE(e) << v;
    EXPECT_EQ(e->param, "page_size");
  }
}

TEST(ScalePaging, slices_and_range) {
  Page p{3, 2};
  EXPECT_EQ(p.first(5), 4u);
  EXPECT_EQ(p.last(5), 5u);
  EXPECT_EQ(check_page(p, 5), std::nullopt);
  EXPECT_EQ(check_page(p, 6), std::nullopt);
  ASSERT_TRUE(check_page(p, 4));
  EXPECT_EQ(check_page(p, 4)->param, "page");
  EXPECT_EQ(check_page(Page{1, 100}, 0), std::nullopt);  // an empty list has its first page
  EXPECT_TRUE(check_page(Page{2, 100}, 0));
}

TEST(ScalePaging, urls_keep_the_request_and_replace_page) {
  Request req;
  req.path = "/v6/metrics/job-types/plot-data/";
  req.headers = {{"host", "vigil.example:8080"}};
  EXPECT_EQ(
      page_url(req, {{"column", "a b"}, {"page", "1"}, {"page_size", "2"}}, 2),
      "http://vigil.example:8080/v6/metrics/job-types/plot-data/?column=a%20b&page=2&page_size=2");
  EXPECT_EQ(page_url(req, {{"started", "2015-10-05T00:00:00+02:00"}}, 3),
            "http://vigil.example:8080/v6/metrics/job-types/plot-data/"
            "?started=2015-10-05T00:00:00%2B02:00&page=3");
  req.path = "/v6/metrics";
  req.headers.clear();
  EXPECT_EQ(page_url(req, {}, 2), "http://localhost/v6/metrics/?page=2");
}

}  // namespace
}  // namespace vigil::api::scale
