// Shared request handling of the Librato resource routes: bodies (JSON, or form-encoded with
// bracket notation) as one JSON object, typed parameter access, name wildcards, pagination
// (`offset`, `length`, `orderby`, `sort`) and the `query` block of list answers.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http/body.hpp"
#include "engine/model/clock.hpp"
#include "api/librato/errors.hpp"
#include "engine/model/glob.hpp"

namespace vigil::api::librato {

using api::form_to_json;
using api::query_json;

// The body as a JSON object: `application/json`, or `application/x-www-form-urlencoded` (also
// when the content type is missing, as in Librato). False with a 415 or 400 answer in `error`.
// An empty body is an empty object.
bool parse_body(const Request& req, nlohmann::json& out, Response& error);
// The same as JSON object text, for the alert model's request parsers.
std::optional<std::string> body_json(const Request& req, Response& error);

// Typed reads of a member that may be a JSON value or form text. Absent or null -> nullopt.
// A present value of the wrong kind sets `bad` (and returns nullopt).
std::optional<std::string> get_string(const nlohmann::json& obj, const char* key, bool& bad);
std::optional<bool> get_bool(const nlohmann::json& obj, const char* key, bool& bad);
std::optional<std::int64_t> get_int(const nlohmann::json& obj, const char* key, bool& bad);
// A list of strings: a JSON array, a bracket array (`names[]=a`) or a comma-separated text.
std::optional<std::vector<std::string>> get_strings(const nlohmann::json& obj, const char* key, bool& bad);

// Name patterns are globs with `*` and `?` (engine/model/glob.hpp).
using vigil::glob_match;
// A search term as Librato treats it: without a wildcard, `*term*`.
std::string search_pattern(std::string_view term);

struct Page {
  std::int64_t offset = 0;
  std::int64_t length = 100;  // 1..100
  std::string orderby;
  bool desc = false;
};

// Reads offset, length, orderby (one of `orderbys`; the first is the default) and sort from `q`.
// False with a 400 answer naming the parameter.
bool parse_page(const nlohmann::json& q, const std::vector<std::string>& orderbys, Page& page, Response& error);

// The query of a list route searchable by name: the page (ordered by name) and the optional
// `name` search string. False with a 400 answer naming the parameter.
bool parse_name_listing(const Request& req, Page& page, std::optional<std::string>& name, Response& error);

// Applies the page to `items` (already sorted ascending by page.orderby): reverses for desc, then
// slices. Returns the `query` block {"found","length","offset","total"}.
template <class T>
nlohmann::json paginate(std::vector<T>& items, const Page& page, std::size_t total) {
  std::size_t found = items.size();
  if (page.desc) std::reverse(items.begin(), items.end());
  std::size_t off = std::min(found, static_cast<std::size_t>(page.offset));
  std::size_t end = std::min(found, off + static_cast<std::size_t>(page.length));
  items = std::vector<T>(items.begin() + static_cast<std::ptrdiff_t>(off), items.begin() + static_cast<std::ptrdiff_t>(end));
  return {{"found", found}, {"length", items.size()}, {"offset", page.offset}, {"total", total}};
}

// A path id: 1..19 decimal digits (0 included); false for anything else.
bool parse_id(std::string_view s, std::uint64_t& id);

// "2013-02-01 18:53:38 UTC"
std::string utc_text(std::int64_t epoch_seconds);
// "http://<Host header>" (or http://localhost), for `href` members.
std::string base_url(const Request& req);

}  // namespace vigil::api::librato
