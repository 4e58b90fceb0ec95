// The pure parts of the UbiOps dialect: dates, label encoding onto Vigil tags, the `k:v,k2:v2`
// label filters, and the names of projects and metrics.
//
// Labels onto tags: a label key or value becomes a tag name or value of Vigil's character set
// (api/librato/lang/normalize.hpp) by keeping [a-z0-9_.-] and writing every other byte as ':' and two
// lower-case hex digits ("Prod/EU" -> ":50rod:2f:45:55"), which is reversible and lower-case. A
// series without labels carries the one tag `ubiops:labels=none`, which no encoded label can
// spell (':' is always followed by two hex digits in an encoded text).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/model/model.hpp"

namespace vigil::api::ubiops {

inline constexpr std::string_view kNoLabelsTag = "ubiops:labels";
inline constexpr std::string_view kNoLabelsValue = "none";
inline constexpr std::size_t kMaxLabels = 10;

// An ISO 8601 date and time: YYYY-MM-DD, optionally followed by 'T' (or a space) and HH:MM,
// HH:MM:SS or HH:MM:SS.fraction, optionally followed by 'Z' or an offset (+HH:MM, +HHMM, +HH).
// Without an offset the time is UTC. Returns epoch microseconds, or nullopt when malformed or
// outside 1970-01-01 .. 9999-12-31.
std::optional<std::int64_t> parse_date(std::string_view s);
// Epoch seconds as "2023-09-01T08:32:14Z".
std::string format_seconds(std::int64_t t);
// Epoch microseconds as "2023-09-01T08:32:14.876451Z".
std::string format_micros(std::int64_t us);

// A label key or value as tag text (see above); empty input gives empty output.
std::string encode_label(std::string_view s);
// The inverse of encode_label; nullopt when `s` is not an encoded text.
std::optional<std::string> decode_label(std::string_view s);

// Labels (key -> value) as the tags of a series: encoded, sorted by name, never empty. An error
// message (naming the label) when a key or value is empty or too long once encoded, or there are
// more than kMaxLabels.
std::string labels_to_tags(const std::vector<std::pair<std::string, std::string>>& labels, Tags& out);
// The labels of a series' tags (the placeholder tag dropped), sorted by key. False when a tag is
// not an encoded label.
bool tags_to_labels(const Tags& tags, std::vector<std::pair<std::string, std::string>>& out);

// "key-1:value-1,key-2:value-2" (the value after the first ':'; spaces around items trimmed).
// An empty text is no filter. An error message when an item is not key:value with a non-empty
// key and value, or a key repeats.
std::string parse_label_filter(std::string_view text, std::vector<std::pair<std::string, std::string>>& out);

// A project name: 1..64 of [a-z0-9-], starting with a letter or digit.
bool valid_project_name(std::string_view s);
// A custom metric name: "custom." followed by 1..57 of [A-Za-z0-9_.-] (64 characters at most).
// An error message, or empty.
std::string check_metric_name(std::string_view s);

}  // namespace vigil::api::ubiops
