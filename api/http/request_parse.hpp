// Reading one HTTP request: Beast's request parser as the server configures it, and the Request
// the router receives from it. Shared by the server (api/http/server.cpp) and its fuzz target
// (fuzz/http_request.cpp), so that what is fuzzed is what the server runs. Includes Beast: only
// for the files that use the parser.
#pragma once

#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "api/http/message.hpp"

namespace vigil::api {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Before the head is read. A declared length is checked against server.max_body_mb once the head
// is read, and the body limit is set then (not boost::none: Beast 1.74 compares a Content-Length
// with an empty optional as "over the limit").
inline void configure_head(RequestParser& parser) { parser.body_limit(std::numeric_limits<std::uint64_t>::max()); }

// The method, path, query and headers (names lower-cased) of a parsed head into `req`; the body
// is cleared and unread_status reset.
inline void head_to_request(const RequestParser::value_type& msg, Request& req) {
  req.method.assign(msg.method_string().data(), msg.method_string().size());
  std::string_view target(msg.target().data(), msg.target().size());
  auto q = target.find('?');
  req.path.assign(target.substr(0, q));
  if (q != std::string_view::npos) req.query.assign(target.substr(q + 1));
  else req.query.clear();
  req.body.clear();
  req.unread_status = 0;
  req.headers.clear();
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.emplace_back(std::move(name), std::string(f.value()));
  }
}

// The Request of a parsed head and body (unless `over_limit`: then unread_status is 413, as the
// server answers a body over the limit). Takes the body out of the parser.
inline Request to_request(RequestParser& parser, bool over_limit) {
  Request req;
  head_to_request(parser.get(), req);
  if (over_limit) req.unread_status = 413;
  else req.body = std::move(parser.get().body());
  return req;
}

}  // namespace vigil::api
