#include "api/console/static_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace vigil::api::console {
namespace {

namespace fs = std::filesystem;

class ConsoleStaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("vigil-console-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "assets");
    write(root_ / "index.html", "<!doctype html>");
    write(root_ / "assets" / "app.js", "console.log(1)");
    write(root_.parent_path() / "outside.txt", "secret");
  }
  void TearDown() override {
    fs::remove_all(root_);
    fs::remove(root_.parent_path() / "outside.txt");
  }
  static void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
  fs::path root_;
};

TEST_F(ConsoleStaticFiles, console_serves_the_files_of_its_directory_with_their_types) {
  StaticFiles files;
  std::string err;
  files.load(root_.string(), err);
  EXPECT_EQ(err, "");
  EXPECT_EQ(files.size(), 2u);
  const StaticFile* f = files.find("/assets/app.js");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->body, "console.log(1)");
  EXPECT_EQ(f->content_type, "text/javascript; charset=utf-8");
  ASSERT_NE(files.find("/index.html"), nullptr);
  EXPECT_EQ(files.find("/index.html")->content_type, "text/html; charset=utf-8");
}

TEST_F(ConsoleStaticFiles, console_no_path_reaches_outside_the_directory) {
  StaticFiles files;
  std::string err;
  files.load(root_.string(), err);
  for (const char* p : {"/../outside.txt", "/assets/../../outside.txt", "/%2e%2e/outside.txt", "/assets",
                        "/assets/", "", "/", "//index.html", "/index.html/"})
    EXPECT_EQ(files.find(p), nullptr) << p;
}

TEST_F(ConsoleStaticFiles, console_a_missing_directory_is_reported) {
  StaticFiles files;
  std::string err;
  files.load((root_ / "nope").string(), err);
  EXPECT_NE(err.find("no console files"), std::string::npos);
  EXPECT_EQ(files.size(), 0u);
}

TEST(ConsoleContentType, console_types_by_extension_with_a_safe_default) {
  EXPECT_EQ(content_type_of("app.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_of("logo.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_of("a.png"), "image/png");
  EXPECT_EQ(content_type_of("README"), "application/octet-stream");
  EXPECT_EQ(content_type_of("x.exe"), "application/octet-stream");
}

}  // namespace
}  // namespace vigil::api::console
