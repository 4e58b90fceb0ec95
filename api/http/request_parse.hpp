// Reading one HTTP request: Beast's request parser as the server configures it, and the Request
// the router receives from it. Shared by the server (api/http/server.cpp) and its fuzz target
// (fuzz/http_request.cpp), so that what is fuzzed is what the server runs. Includes Beast: only
// for the files that use the parser.
#pragma once

#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/http/message.hpp"

namespace vigil::api {

// The largest request body read (a larger one is answered 413 once the head is known).
inline constexpr std::uint64_t kBodyLimit = 64ull << 20;

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

inline void configure(RequestParser& parser) { parser.body_limit(kBodyLimit); }

// The Request of a parsed head (and body, unless `over_limit`: then unread_status is 413).
// Takes the body out of the parser.
inline Request to_request(RequestParser& parser, bool over_limit) {
  auto& msg = parser.get();
  Request req;
  req.method = std::string(msg.method_string());
  std::string_view target(msg.target().data(), msg.target().size());
  auto q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
  if (over_limit) req.unread_status = 413;  // a body over the limit: the handler answers, then the server closes
  else req.body = std::move(msg.body());
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  return req;
}

}  // namespace vigil::api
