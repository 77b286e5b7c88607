// The web demo's static files: types by extension, which paths resolve (and which never do),
// ETag matching.
#include "signaling/static_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace junction::signaling {
namespace {
namespace fs = std::filesystem;

TEST(StaticFilesTest, ContentTypes) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("app/sfu.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("lib.MJS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("demo.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("favicon.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("a.png"), "image/png");
  EXPECT_EQ(content_type_for("favicon.ico"), "image/x-icon");
  EXPECT_EQ(content_type_for("data.json"), "application/json");
  EXPECT_EQ(content_type_for("app.webmanifest"), "application/manifest+json");
  EXPECT_EQ(content_type_for("Makefile"), std::nullopt);
  EXPECT_EQ(content_type_for("junction.so"), std::nullopt);
  EXPECT_EQ(content_type_for("notes.html.bak"), std::nullopt);
}

TEST(StaticFilesTest, EtagMatching) {
  EXPECT_TRUE(etag_matches("\"1-2\"", "\"1-2\""));
  EXPECT_TRUE(etag_matches("W/\"1-2\"", "\"1-2\""));
  EXPECT_TRUE(etag_matches("\"0-0\", \"1-2\"", "\"1-2\""));
  EXPECT_TRUE(etag_matches("*", "\"1-2\""));
  EXPECT_FALSE(etag_matches("", "\"1-2\""));
  EXPECT_FALSE(etag_matches("\"1-3\"", "\"1-2\""));
  EXPECT_FALSE(etag_matches("1-2", "\"1-2\""));
}

class StaticFilesTree : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ =
        fs::temp_directory_path() / ("junction-static-" + std::to_string(std::random_device{}()));
    root_ = base_ / "www";
    fs::create_directories(root_ / "app");
    fs::create_directories(root_ / ".git");
    write(root_ / "index.html", "<p>home</p>");
    write(root_ / "app" / "index.html", "<p>app</p>");
    write(root_ / "app" / "x.js", "export {};");
    write(root_ / "app" / "tool.sh", "#!/bin/sh");
    write(root_ / ".git" / "config.json", "{}");
    write(base_ / "secret.json", "{}");
    fs::create_symlink(base_ / "secret.json", root_ / "link.json");
  }
  void TearDown() override { fs::remove_all(base_); }
  static void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

  fs::path base_, root_;
};

TEST_F(StaticFilesTree, ResolvesFilesAndFolders) {
  auto home = resolve_static_file(root_, "/");
  ASSERT_TRUE(home);
  EXPECT_EQ(home->path.filename(), "index.html");
  EXPECT_EQ(home->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(home->size, 11u);
  EXPECT_EQ(home->etag.front(), '"');
  auto app = resolve_static_file(root_, "/app/");
  ASSERT_TRUE(app);
  EXPECT_EQ(app->path.parent_path().filename(), "app");
  EXPECT_TRUE(resolve_static_file(root_, "/app"));
  auto js = resolve_static_file(root_, "/app/x.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
}

TEST_F(StaticFilesTree, RefusesWhatIsNotAPublicFile) {
  for (const char* path : {"/missing.html", "/../secret.json", "/app/../../secret.json",
                           "/app/./x.js", "/.git/config.json", "/link.json", "/app/tool.sh",
                           "/app\\x.js", "relative.html", "", "/app/x.js\n"})
    EXPECT_FALSE(resolve_static_file(root_, path)) << path;
  EXPECT_FALSE(resolve_static_file(base_ / "nowhere", "/index.html"));
}

TEST_F(StaticFilesTree, EtagChangesWithTheFile) {
  auto before = resolve_static_file(root_, "/app/x.js");
  write(root_ / "app" / "x.js", "export const changed = 1;");
  auto after = resolve_static_file(root_, "/app/x.js");
  ASSERT_TRUE(before && after);
  EXPECT_NE(before->etag, after->etag);
}

}  // namespace
}  // namespace junction::signaling
