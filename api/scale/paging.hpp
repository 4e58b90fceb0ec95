// Scale's page-number pagination: `page` (from 1) and `page_size` (1..1000, 100 by default),
// answered with `count`, and `next` / `previous` as absolute URLs of the same request on the
// neighbouring pages (null at either end).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/http/message.hpp"

namespace vigil::api::scale {

// Decoded query parameters, in order, duplicates kept.
using Params = std::vector<std::pair<std::string, std::string>>;

struct Page {
  std::int64_t page = 1;
  std::int64_t page_size = 100;
  // The slice [first, last) of `count` items this page shows.
  std::size_t first(std::size_t count) const;
  std::size_t last(std::size_t count) const;
};

// The page and size asked for (the last of repeated values); nullopt with the parameter and the
// message of a malformed one.
struct ParamProblem {
  std::string param;
  std::string message;
};
std::optional<ParamProblem> parse_page(const Params& q, Page& page);
// A page beyond the last one of `count` items (page 1 always exists, if empty).
std::optional<ParamProblem> check_page(const Page& page, std::size_t count);

// "http://<Host><path>/?<query with page=N>": the request's path in Scale's form, with the
// trailing slash, whether or not the request had it.
std::string page_url(const Request& req, const Params& q, std::int64_t page);

}  // namespace vigil::api::scale
