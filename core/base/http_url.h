#pragma once
// Plain http:// URLs as the event push collector is configured: http://host[:port][/path], the
// host a name, an IPv4 address or a bracketed IPv6 address.
#include <optional>
#include <string>
#include <string_view>

namespace junction {

struct HttpUrl {
  std::string host;  // without brackets
  int port = 80;
  std::string path = "/";
};

// nullopt for anything else: another scheme, no host, a bad port, spaces or line breaks.
std::optional<HttpUrl> parse_http_url(std::string_view url);

}  // namespace junction
