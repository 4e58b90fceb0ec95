// The canonical series key: the name of a series in the series family and the series index.
//
//   key    = text(metric key) NUL tags
//   tags   = empty | text(name) '=' text(value) { ',' text(name) '=' text(value) }
//   text   = the bytes of the string, each of '\', NUL, '=' and ',' written as '\' and a second
//            byte: "\\", "\0" (a backslash and the digit zero), "\=", "\,"
//
// Tags are written in the order given (callers pass them sorted by name). Names and values may be
// any bytes (any UTF-8): the escapes make the key unambiguous, so two different (metric, tags)
// give two different keys and parse_series_key gives back exactly what was written. A text never
// holds a raw NUL, so every series of a metric shares the prefix `text(metric key) NUL` and no
// other metric's key starts with it.
//
// Texts without any of the four bytes (every name Librato's character set allows) are written as
// they are: the key is byte for byte what it was before escapes existed, keys written then read
// the same, and such keys keep their order. The writer finds the four bytes with one vectorised
// scan of the finished key and escapes only when it finds more than its own separators.
#pragma once

#include <string>
#include <string_view>

#include "engine/model/model.hpp"

namespace vigil::enc {

std::string series_key(std::string_view metric_key, const Tags& tags);
// The same key appended to `out` (many keys in one buffer, no allocation per key).
void append_series_key(std::string& out, std::string_view metric_key, const Tags& tags);
// Splits a canonical series key back into metric key and tags; false if malformed (no NUL, an
// empty metric key, a pair without '=' or with an empty name, a '\' not followed by one of
// '\', '0', '=', ',').
bool parse_series_key(std::string_view key, std::string& metric_key, Tags& tags);

// The tags part of a series key alone (what follows its NUL): `name=value,name=value` with the
// same escapes. Alert streams are named by it.
void append_tags_key(std::string& out, const Tags& tags);
// The inverse of append_tags_key; false if malformed (as for parse_series_key).
bool parse_tags_key(std::string_view text, Tags& tags);

// A text as the keys write it (the string itself when it holds none of the four bytes), for other
// keys made of names and values: the result never holds a raw NUL, '=' or ','.
void append_key_text(std::string& out, std::string_view text);
// True when `text` holds none of '\', NUL, '=' and ',' (append_key_text copies it unchanged).
bool is_plain_key_text(std::string_view text);

}  // namespace vigil::enc
