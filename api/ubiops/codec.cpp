#include "api/ubiops/codec.hpp"

#include <algorithm>
#include <cstdio>

#include "engine/model/limits.hpp"
#include "engine/model/text.hpp"
#include "engine/model/iso8601.hpp"
#include "engine/model/time_text.hpp"

namespace vigil::api::ubiops {

namespace {


bool plain_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::int64_t> parse_date(std::string_view s) {
  const std::optional<IsoDateTime> dt = parse_iso8601(s);
  if (!dt || dt->utc() < 0) return std::nullopt;
  return dt->utc() * 1000000 + dt->micros;
}

std::string format_seconds(std::int64_t t) { return iso8601_utc(t); }

std::string format_micros(std::int64_t us) {
  std::int64_t s = us / 1000000, frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --s;
  }
  std::string out = format_seconds(s);
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%06lldZ", static_cast<long long>(frac));
  out.pop_back();
  out += buf;
  return out;
}

std::string encode_label(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (plain_label_char(c)) {
      out.push_back(c);
    } else {
      auto u = static_cast<unsigned char>(c);
      out.push_back(':');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    }
  }
  return out;
}

std::optional<std::string> decode_label(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (plain_label_char(c)) {
      out.push_back(c);
      continue;
    }
    if (c != ':' || i + 2 >= s.size()) return std::nullopt;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    char d = static_cast<char>(hi * 16 + lo);
    if (plain_label_char(d)) return std::nullopt;  // not what encode_label writes
    out.push_back(d);
    i += 2;
  }
  return out;
}

std::string labels_to_tags(const std::vector<std::pair<std::string, std::string>>& labels, Tags& out) {
  out.clear();
  if (labels.size() > kMaxLabels) return "at most " + std::to_string(kMaxLabels) + " labels";
  for (const auto& [k, v] : labels) {
    if (k.empty()) return "label keys must not be empty";
    if (v.empty()) return "the value of label '" + k + "' must not be empty";
    std::string name = encode_label(k), value = encode_label(v);
    if (name.size() > kMaxTagNameLength) return "label key '" + k + "' is too long";
    if (value.size() > kMaxTagValueLength) return "the value of label '" + k + "' is too long";
    out.emplace_back(std::move(name), std::move(value));
  }
  std::sort(out.begin(), out.end());
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i].first == out[i - 1].first) return "label keys must be unique";
  if (out.empty()) out.emplace_back(std::string(kNoLabelsTag), std::string(kNoLabelsValue));
  return {};
}

bool tags_to_labels(const Tags& tags, std::vector<std::pair<std::string, std::string>>& out) {
  out.clear();
  for (const auto& [k, v] : tags) {
    if (k == kNoLabelsTag) continue;
    auto dk = decode_label(k), dv = decode_label(v);
    if (!dk || !dv) return false;
    out.emplace_back(std::move(*dk), std::move(*dv));
  }
  std::sort(out.begin(), out.end());
  return true;
}

std::string parse_label_filter(std::string_view text, std::vector<std::pair<std::string, std::string>>& out) {
  out.clear();
  if (trim(text).empty()) return {};
  while (true) {
    auto comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    auto colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == item.size())
      return "each label must be key:value, got '" + std::string(item) + "'";
    std::string key(trim(item.substr(0, colon)));
    std::string value(trim(item.substr(colon + 1)));
    if (key.empty() || value.empty()) return "each label must be key:value, got '" + std::string(item) + "'";
    for (const auto& [k, v] : out)
      if (k == key) return "label '" + key + "' is given twice";
    out.emplace_back(std::move(key), std::move(value));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return {};
}

bool valid_project_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '-') return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::string check_metric_name(std::string_view s) {
  constexpr std::string_view kPrefix = "custom.";
  if (s.substr(0, kPrefix.size()) != kPrefix) return "must start with 'custom.'";
  if (s.size() == kPrefix.size()) return "must have a name after 'custom.'";
  if (s.size() > 64) return "must be at most 64 characters";
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
          c == '-'))
      return "may only hold letters, digits, '_', '.' and '-'";
  return {};
}

}  // namespace vigil::api::ubiops
