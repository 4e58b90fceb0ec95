#include "api/scale/paging.hpp"

#include <algorithm>
#include <charconv>

#include "api/http/form.hpp"

namespace vigil::api::scale {

namespace {

std::optional<std::int64_t> parse_int(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

const std::string* last_of(const Params& q, const char* key) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : q)
    if (k == key) found = &v;
  return found;
}

}  // namespace

std::size_t Page::first(std::size_t count) const {
  auto off = static_cast<std::size_t>((page - 1) * page_size);
  return std::min(off, count);
}

std::size_t Page::last(std::size_t count) const {
  return std::min(count, first(count) + static_cast<std::size_t>(page_size));
}

std::optional<ParamProblem> parse_page(const Params& q, Page& page) {
  if (const std::string* s = last_of(q, "page")) {
    auto v = parse_int(*s);
    if (!v || *v < 1 || *v > 1'000'000'000)
      return ParamProblem{"page", "must be an integer of 1 or more"};
    page.page = *v;
  }
  if (const std::string* s = last_of(q, "page_size")) {
    auto v = parse_int(*s);
    if (!v || *v < 1 || *v > 1000)
      return ParamProblem{"page_size", "must be an integer from 1 to 1000"};
    page.page_size = *v;
  }
  return std::nullopt;
}

std::optional<ParamProblem> check_page(const Page& page, std::size_t count) {
  auto pages = static_cast<std::int64_t>((count + static_cast<std::size_t>(page.page_size) - 1) /
                                         static_cast<std::size_t>(page.page_size));
  if (page.page > std::max<std::int64_t>(1, pages))
    return ParamProblem{"page", "page " + std::to_string(page.page) + " is out of range (" +
                                    std::to_string(std::max<std::int64_t>(1, pages)) +
                                    " page(s) of " + std::to_string(page.page_size) + ")"};
  return std::nullopt;
}

std::string page_url(const Request& req, const Params& q, std::int64_t page) {
  auto host = req.header("host");
  std::string url = "http://";
  url += host.empty() ? std::string_view("localhost") : host;
  url += req.path;
  if (url.back() != '/') url += '/';  // Scale's own form of every path
  url += '?';
  bool first = true, done = false;
  auto add = [&](const std::string& k, const std::string& v) {
    if (!first) url += '&';
    first = false;
    url_encode(url, k, ":");
    url += '=';
    url_encode(url, v, ":");
  };
  for (const auto& [k, v] : q) {
    if (k == "page") {
      if (!done) add(k, std::to_string(page));
      done = true;
    } else {
      add(k, v);
    }
  }
  if (!done) add("page", std::to_string(page));
  return url;
}

}  // namespace vigil::api::scale
