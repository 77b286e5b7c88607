#include "core/base/atomic_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace junction {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class AtomicFile : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("junction-atomic-" + std::to_string(::getpid()));
    fs::create_directories(folder_);
  }
  void TearDown() override { fs::remove_all(folder_); }
  size_t entries() const { return static_cast<size_t>(std::distance(fs::directory_iterator(folder_), {})); }
  fs::path folder_;
};

TEST_F(AtomicFile, CreatesThenReplacesLeavingNoTemporaryFile) {
  fs::path file = folder_ / "rooms.json";
  write_file_atomically(file.string(), "first");
  EXPECT_EQ(read(file), "first");
  write_file_atomically(file.string(), std::string(100000, 'x'));
  EXPECT_EQ(read(file), std::string(100000, 'x'));
  write_file_atomically(file.string(), "");
  EXPECT_EQ(read(file), "");
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFile, MissingFolderThrowsAndNamesThePath) {
  fs::path file = folder_ / "nope" / "rooms.json";
  try {
    write_file_atomically(file.string(), "x");
    FAIL() << "no exception";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
  }
}

TEST_F(AtomicFile, FailedRenameKeepsTheOldFileAndRemovesTheTemporaryOne) {
  fs::path target = folder_ / "a-folder";
  fs::create_directories(target / "inside");  // rename() cannot replace a non-empty folder
  EXPECT_THROW(write_file_atomically(target.string(), "x"), std::system_error);
  EXPECT_TRUE(fs::is_directory(target / "inside"));
  EXPECT_EQ(entries(), 1u);
}

TEST_F(AtomicFile, LeftoverTemporariesAreRemovedAndNothingElse) {
  fs::path file = folder_ / "rooms.json";
  write_file_atomically(file.string(), "kept");
  for (const char* name : {".rooms.json.Ab12Cd", ".rooms.json.zzzzzz", ".rooms.json.toolong1", "other.txt"})
    std::ofstream(folder_ / name) << "x";
  remove_leftover_temporaries(file.string());
  EXPECT_EQ(read(file), "kept");
  EXPECT_FALSE(fs::exists(folder_ / ".rooms.json.Ab12Cd"));
  EXPECT_FALSE(fs::exists(folder_ / ".rooms.json.zzzzzz"));
  EXPECT_TRUE(fs::exists(folder_ / ".rooms.json.toolong1"));
  EXPECT_TRUE(fs::exists(folder_ / "other.txt"));
}

}  // namespace
}  // namespace junction
