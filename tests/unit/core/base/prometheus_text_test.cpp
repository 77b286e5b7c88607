#include "core/base/prometheus_text.h"

#include <gtest/gtest.h>

namespace junction {
namespace {

TEST(PrometheusText, FamiliesAndSamples) {
  PrometheusText out;
  out.family("x_requests_total", PrometheusText::Type::kCounter, "Requests.\nSecond line \\ here");
  out.sample(uint64_t{3}, {{"api", "client"}});
  out.sample(uint64_t{4}, {{"api", "a\"b\\c\nd"}, {"k", "v"}});
  out.family("x_up", PrometheusText::Type::kGauge, "Up.");
  out.sample(0.5);
  EXPECT_EQ(out.text(),
            "# HELP x_requests_total Requests.\\nSecond line \\\\ here\n"
            "# TYPE x_requests_total counter\n"
            "x_requests_total{api=\"client\"} 3\n"
            "x_requests_total{api=\"a\\\"b\\\\c\\nd\",k=\"v\"} 4\n"
            "# HELP x_up Up.\n"
            "# TYPE x_up gauge\n"
            "x_up 0.5\n");
}

TEST(PrometheusText, NamesAreChecked) {
  EXPECT_TRUE(PrometheusText::valid_name("a_b:c9"));
  EXPECT_FALSE(PrometheusText::valid_name("9a"));
  EXPECT_FALSE(PrometheusText::valid_name("a-b"));
  EXPECT_FALSE(PrometheusText::valid_name(""));
  PrometheusText out;
  EXPECT_THROW(out.family("bad-name", PrometheusText::Type::kGauge, "x"), std::invalid_argument);
  out.family("ok", PrometheusText::Type::kGauge, "x");
  EXPECT_THROW(out.sample(1.0, {{"bad label", "v"}}), std::invalid_argument);
}

}  // namespace
}  // namespace junction
