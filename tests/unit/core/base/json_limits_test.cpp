#include "core/base/json_limits.h"

#include <gtest/gtest.h>

#include <string>

namespace junction {
namespace {

TEST(JsonNestingDepth, CountsArraysAndObjects) {
  EXPECT_EQ(json_nesting_depth("1", 64), 0u);
  EXPECT_EQ(json_nesting_depth("{}", 64), 1u);
  EXPECT_EQ(json_nesting_depth("{\"a\":[1,{\"b\":[]}]}", 64), 4u);
  EXPECT_EQ(json_nesting_depth("[[],[],[]]", 64), 2u);
}

TEST(JsonNestingDepth, IgnoresBracketsInsideStrings) {
  EXPECT_EQ(json_nesting_depth("{\"a\":\"[[[[{{{\"}", 64), 1u);
  EXPECT_EQ(json_nesting_depth("[\"\\\"[[[\"]", 64), 1u);  // escaped quote stays inside the string
  EXPECT_EQ(json_nesting_depth("[\"\\\\\",[1]]", 64), 2u);  // an escaped backslash ends the escape
}

TEST(JsonNestingDepth, StopsOnceOverTheLimit) {
  std::string deep(100000, '[');
  EXPECT_EQ(json_nesting_depth(deep, 64), 65u);
}

}  // namespace
}  // namespace junction
