// Request bodies sent with a Content-Encoding: gzip and deflate (zlib or raw) are inflated before
// a dialect's handler reads them, with a bound on the inflated size, so that every write route
// of every dialect takes compressed bodies the way collectors commonly send them.
#pragma once

#include <cstddef>
#include <string>

#include "api/http/message.hpp"

namespace vigil::api {

// 0 when `req` carries no Content-Encoding (or `identity`): nothing to do. Otherwise inflates
// req.body in place and removes the header, returning 0, or returns the status of the refusal
// with `err`: 415 for an encoding other than gzip, deflate and identity (or a list of several),
// 400 for a body that does not inflate, 413 when the inflated body would exceed `limit` bytes.
int decode_content(Request& req, std::size_t limit, std::string& err);

// True when `req` names a Content-Encoding other than identity.
bool has_content_encoding(const Request& req);

}  // namespace vigil::api
