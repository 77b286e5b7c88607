#include "core/base/http_url.h"

#include <gtest/gtest.h>

namespace junction {
namespace {

TEST(HttpUrl, Parses) {
  auto u = parse_http_url("http://127.0.0.1:8080/x/y");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/x/y");
  u = parse_http_url("http://collector");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->host, "collector");
  EXPECT_EQ(u->path, "/");
  u = parse_http_url("http://[::1]:9/e");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9);
}

TEST(HttpUrl, RefusesWhatItCannotUse) {
  for (const char* bad : {"https://x/", "http://", "http://:80/", "http://x:99999/", "http://x:8a/", "http://x:/",
                          "http://[::1/", "http://[::1]x/", "http://x/a b", "http://x\r\n/", "ftp://x/", ""})
    EXPECT_FALSE(parse_http_url(bad)) << bad;
}

}  // namespace
}  // namespace junction
