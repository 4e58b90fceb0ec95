#include "connectors/notify/smtp.hpp"

#include <curl/curl.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <mutex>

namespace vigil::connectors {

namespace {

// A header value on one line: CR and LF would start another header.
std::string one_line(std::string s) {
  for (auto& c : s)
    if (c == '\r' || c == '\n') c = ' ';
  return s;
}

// RFC 2047 encoded-word for a header with bytes outside ASCII.
std::string header_text(const std::string& s) {
  bool ascii = true;
  for (unsigned char c : s) ascii = ascii && c < 0x80;
  if (ascii) return one_line(s);
  static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string in = one_line(s), out = "=?UTF-8?B?";
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    for (int k = 18; k >= 0; k -= 6) out.push_back(b64[(v >> k) & 63]);
  }
  if (i < in.size()) {
    unsigned v = (unsigned char)in[i] << 16 | (i + 1 < in.size() ? (unsigned char)in[i + 1] << 8 : 0);
    out.push_back(b64[(v >> 18) & 63]);
    out.push_back(b64[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? b64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out + "?=";
}

struct Upload {
  const std::string* data;
  std::size_t pos = 0;
};

std::size_t read_cb(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  std::size_t left = u->data->size() - u->pos;
  std::size_t take = std::min(left, size * n);
  std::memcpy(buf, u->data->data() + u->pos, take);
  u->pos += take;
  return take;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::string mail_message(const SmtpOptions& o, const MailSpec& m, std::int64_t now) {
  char date[64];
  std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string to;
  for (const auto& a : m.to) to += (to.empty() ? "" : ", ") + one_line(a);
  std::string host = o.from.substr(o.from.find('@') + 1);
  std::string msg;
  msg += "Date: " + std::string(date) + "\r\n";
  msg += "From: Vigil <" + one_line(o.from) + ">\r\n";
  msg += "To: " + to + "\r\n";
  msg += "Subject: " + header_text(m.subject) + "\r\n";
  msg += "Message-ID: <" + one_line(m.message_id) + "@" + one_line(host) + ">\r\n";
  msg += "MIME-Version: 1.0\r\n";
  msg += "Content-Type: text/plain; charset=utf-8\r\n";
  msg += "Content-Transfer-Encoding: 8bit\r\n";
  msg += "\r\n";
  for (char c : m.body) {  // bare LF -> CRLF
    if (c == '\n') msg += "\r\n";
    else if (c != '\r') msg += c;
  }
  return msg;
}

SmtpResult send_mail(const SmtpOptions& o, const MailSpec& m) {
  SmtpResult r;
  if (o.url.empty()) {
    r.error = "no SMTP server is configured (alerts.smtp_url)";
    r.permanent = true;
    return r;
  }
  global_init();
  CURL* curl = curl_easy_init();
  if (!curl) {
    r.error = "cannot start an SMTP session";
    return r;
  }
  std::string payload = mail_message(
      o, m, std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  Upload up{&payload};
  curl_slist* rcpt = nullptr;
  for (const auto& a : m.to) rcpt = curl_slist_append(rcpt, ("<" + one_line(a) + ">").c_str());
  std::string from = "<" + one_line(o.from) + ">";
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, o.url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(curl, CURLOPT_READDATA, &up);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  if (o.starttls) curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!o.username.empty() && !o.password.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, o.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, o.password.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  r.code = code;
  if (rc == CURLE_OK) {
    r.ok = true;
  } else {
    r.error = std::string("SMTP") + (code ? " " + std::to_string(code) : "") + ": " +
              (errbuf[0] ? errbuf : curl_easy_strerror(rc));
    r.permanent = code >= 500 && code < 600;
  }
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  return r;
}

}  // namespace vigil::connectors
