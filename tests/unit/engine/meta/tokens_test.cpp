#include "engine/meta/tokens.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine/storage/storage.hpp"

namespace vigil {
namespace {

namespace fs = std::filesystem;

TEST(Sha256, known_vectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(RandomToken, is_64_hex_and_differs) {
  auto a = random_token(), b = random_token();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

TEST(Roles, names_round_trip) {
  for (auto r : {Role::viewer, Role::recorder, Role::admin}) EXPECT_EQ(parse_role(role_name(r)), r);
  EXPECT_EQ(parse_role("root"), std::nullopt);
  EXPECT_EQ(parse_role("Admin"), std::nullopt);
}

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vigil_tokens_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    open();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void open() {
    store_.reset();
    std::string err;
    store_ = Storage::open(dir_.string(), StorageOptions{}, err);
    ASSERT_TRUE(store_) << err;
  }
  fs::path dir_;
  std::unique_ptr<Storage> store_;
};

TEST_F(TokenStoreTest, stores_hashes_and_survives_reopen) {
  std::string err, secret = "my-secret-token";
  {
    TokenStore tokens(*store_);
    ASSERT_TRUE(tokens.load().ok());
    auto g0 = tokens.generation();
    auto t = tokens.create(std::string("collectors"), Role::recorder, secret, 1700000000, err);
    ASSERT_TRUE(t) << err;
    EXPECT_EQ(t->id, 1u);
    EXPECT_EQ(t->hash, sha256_hex("my-secret-token"));
    EXPECT_EQ(t->hint, "my-secre");
    EXPECT_GT(tokens.generation(), g0);
    std::string generated;
    auto t2 = tokens.create(std::nullopt, Role::viewer, generated, 1700000001, err);
    ASSERT_TRUE(t2);
    EXPECT_EQ(generated.size(), 64u);
    EXPECT_EQ(t2->id, 2u);
    std::string again = "my-secret-token";
    EXPECT_FALSE(tokens.create(std::string("dup"), Role::admin, again, 1, err));
    ASSERT_TRUE(tokens.set_account("ops@example.com", err));
  }
  // Nothing stores the token text itself.
  bool plain = false;
  ASSERT_TRUE(store_->scan_prefix(Cf::meta, "", [&](std::string_view, std::string_view v) {
    if (v.find("my-secret-token") != std::string_view::npos) plain = true;
    return true;
  }).ok());
  EXPECT_FALSE(plain);
  open();
  TokenStore tokens(*store_);
  ASSERT_TRUE(tokens.load().ok());
  EXPECT_EQ(tokens.size(), 2u);
  EXPECT_EQ(tokens.account(), "ops@example.com");
  auto t = tokens.find_by_secret("my-secret-token");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->name, std::optional<std::string>("collectors"));
  EXPECT_EQ(t->role, Role::recorder);
  EXPECT_FALSE(tokens.find_by_secret("other"));
  t->active = false;
  t->role = Role::admin;
  ASSERT_TRUE(tokens.update(*t, err));
  EXPECT_FALSE(tokens.get(1)->active);
  EXPECT_EQ(tokens.get(1)->role, Role::admin);
  ASSERT_TRUE(tokens.remove(1, err));
  EXPECT_FALSE(tokens.get(1));
  EXPECT_FALSE(tokens.find_by_secret("my-secret-token"));
  EXPECT_FALSE(tokens.remove(1, err));
  std::string s3;
  EXPECT_EQ(tokens.create(std::nullopt, Role::viewer, s3, 1, err)->id, 3u);  // ids are not reused
}

}  // namespace
}  // namespace vigil
