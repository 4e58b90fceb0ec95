// A route table: path patterns with methods, matched against a request path.
//
// A pattern is a '/'-separated list of segments; a segment is a literal ("alerts") or a parameter
// (":id"), which matches one non-empty segment and is handed to the handler percent-decoded
// ('+' stays '+'). A path with an empty segment ("/v1/alerts/", "/v1//x") matches no pattern.
// When several patterns match a path, the most specific wins: segment by segment from the left,
// a literal beats a parameter ("/v1/alerts/status" before "/v1/alerts/:id"). A path that matches
// a pattern under another method is answered 405 with the pattern's methods, in the order they
// were added, as the Allow header.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http/message.hpp"

namespace vigil::api {

// The parameters of a matched pattern, decoded, in pattern order.
class PathParams {
 public:
  // The value of parameter `name` (without the ':'); empty if the pattern has none of that name.
  const std::string& operator[](std::string_view name) const;
  void add(std::string name, std::string value) { items_.emplace_back(std::move(name), std::move(value)); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

using RouteHandler = std::function<Response(const Request&, const PathParams&)>;

class RouteTable {
 public:
  // Registers `handler` for `method` on `pattern`. Adding the same method twice to a pattern
  // replaces the first handler.
  void add(std::string_view method, std::string_view pattern, RouteHandler handler);

  struct Match {
    const RouteHandler* handler = nullptr;  // null: no route (allow empty) or 405 (allow set)
    PathParams params;
    std::string allow;  // "GET, PUT, DELETE": the path matched, but not under this method
  };
  Match match(std::string_view method, std::string_view path) const;

 private:
  struct Segment {
    std::string text;  // the literal, or the parameter's name
    bool param = false;
  };
  struct Entry {
    std::vector<Segment> segments;
    std::vector<std::pair<std::string, RouteHandler>> methods;
  };
  std::vector<Entry> entries_;
};

// The answer for a request that matched no route, or matched under another method: `not_found`
// and `not_allowed(allow)` render it in the caller's error format, and a 405 carries the Allow
// header. Otherwise the handler's answer.
Response dispatch(const RouteTable& table, const Request& req,
                  const std::function<Response()>& not_found,
                  const std::function<Response(const std::string& allow)>& not_allowed);

// A 405 answer: `r` (an error body in the caller's format) with the Allow header listing the
// methods the path takes. dispatch() and the routes outside a table (the console) answer through it.
Response with_allow(Response r, const std::string& allow);

}  // namespace vigil::api
