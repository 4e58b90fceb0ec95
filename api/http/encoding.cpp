#include "api/http/encoding.hpp"

#include <zlib.h>

#include <algorithm>

namespace vigil::api {

namespace {

std::string lower_trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Inflates `in` with zlib's window bits `bits` (15 + 32: zlib or gzip header; -15: raw deflate).
int inflate_with(const std::string& in, int bits, std::size_t limit, std::string& out, std::string& err) {
  z_stream z{};
  if (inflateInit2(&z, bits) != Z_OK) {
    err = "cannot inflate the body";
    return 500;
  }
  out.clear();
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[65536];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    std::size_t got = sizeof buf - z.avail_out;
    if (out.size() + got > limit) {
      inflateEnd(&z);
      err = "the inflated request body is over the limit (" + std::to_string(limit / (1024 * 1024)) +
            " MiB, server.max_inflated_mb)";
      return 413;
    }
    out.append(buf, got);
    if (rc == Z_OK && got == 0 && z.avail_in == 0) {  // input ended before the stream did
      rc = Z_BUF_ERROR;
      break;
    }
  }
  bool trailing = z.avail_in != 0;
  inflateEnd(&z);
  if (rc != Z_STREAM_END || trailing) {
    err = "the request body is not valid compressed data";
    return 400;
  }
  return 0;
}

}  // namespace

bool has_content_encoding(const Request& req) {
  std::string_view h = req.header("content-encoding");
  return !h.empty() && lower_trimmed(h) != "identity";
}

int decode_content(Request& req, std::size_t limit, std::string& err) {
  if (!has_content_encoding(req)) return 0;
  std::string enc = lower_trimmed(req.header("content-encoding"));
  std::string out;
  int st = 0;
  if (enc == "gzip" || enc == "x-gzip") {
    st = inflate_with(req.body, 15 + 32, limit, out, err);
  } else if (enc == "deflate") {
    // HTTP's deflate is the zlib format; some clients send raw deflate.
    st = inflate_with(req.body, 15, limit, out, err);
    if (st == 400) {
      std::string raw_err;
      int raw = inflate_with(req.body, -15, limit, out, raw_err);
      st = raw;
      if (raw != 0) err = raw_err;
    }
  } else {
    err = "unsupported Content-Encoding '" + enc + "' (gzip, deflate and identity are accepted)";
    return 415;
  }
  if (st != 0) return st;
  req.body = std::move(out);
  req.headers.erase(std::remove_if(req.headers.begin(), req.headers.end(),
                                   [](const auto& h) { return h.first == "content-encoding"; }),
                    req.headers.end());
  return 0;
}

}  // namespace vigil::api
