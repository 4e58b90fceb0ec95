// Mail delivery: one e-mail through an SMTP server with libcurl's SMTP client (plain, STARTTLS
// or implicit TLS, optional AUTH). Blocking: the notifier runs it off its event loop.
#pragma once

#include <string>

#include "connectors/notify/payloads.hpp"

namespace vigil::connectors {

struct SmtpOptions {
  std::string url;   // smtp://host[:port] or smtps://host[:port]; empty: no mail server
  std::string from = "vigil@localhost";
  std::string username, password;  // AUTH when both are set
  bool starttls = false;           // require STARTTLS on smtp://
  int timeout_ms = 5000;
};

struct SmtpResult {
  bool ok = false;
  bool permanent = false;  // the server refused the message for good (a 5xx reply): no retry
  long code = 0;           // the server's last reply code (250 when accepted), 0 if none
  std::string error;
};

// The message as sent: headers (Date, From, To, Subject, Message-ID, MIME) and the body, CRLF lines.
std::string mail_message(const SmtpOptions& o, const MailSpec& m, std::int64_t now_seconds);

SmtpResult send_mail(const SmtpOptions& o, const MailSpec& m);

}  // namespace vigil::connectors
