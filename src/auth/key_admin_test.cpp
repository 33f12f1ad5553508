#include "auth/key_admin.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "auth/auth_test_util.h"
#include "auth/key_store.h"

namespace roentgen::auth {
namespace {

using testing::kNow;
using testing::kSecond;

TEST(KeyAdminTest, CreateMakesTheFileAndALongLivedKey) {
  testing::TempKeysFile file;
  Result<nlohmann::json> created =
      CreateKey(file.path(), {{"xray:PutTraceSegments"}, std::nullopt, "ingest"}, kNow);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->size(), 2u);
  const std::string id = (*created)["AccessKeyId"];
  const std::string secret = (*created)["SecretAccessKey"];
  EXPECT_TRUE(id.starts_with("AKRG"));

  struct stat st {};
  ASSERT_EQ(stat(file.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<KeysFile> read = ReadKeysFile(file.path());
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->session_token_key.size(), 32u);
  ASSERT_NE(read->Find(id), nullptr);
  EXPECT_EQ(read->Find(id)->secret_access_key, secret);
  EXPECT_EQ(read->Find(id)->name, "ingest");
  EXPECT_EQ(read->Find(id)->created_s, kNow);

  Result<nlohmann::json> listed = ListKeys(file.path());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0]["AccessKeyId"], id);
  EXPECT_EQ((*listed)[0]["Name"], "ingest");
  EXPECT_FALSE((*listed)[0].contains("SecretAccessKey"));
}

TEST(KeyAdminTest, CreateWithTtlMakesASessionKeyTheServerAccepts) {
  testing::TempKeysFile file;
  ASSERT_TRUE(CreateKey(file.path(), {{"xray:GetTraceSummaries"}, std::nullopt, ""}, kNow).ok());
  Result<nlohmann::json> session =
      CreateKey(file.path(), {{"xray:PutTraceSegments"}, 3600, "browser"}, kNow);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  EXPECT_TRUE((*session)["AccessKeyId"].get<std::string>().starts_with("ASRG"));
  EXPECT_EQ((*session)["Expiration"], "2025-12-06T01:00:00Z");

  FakeClock clock(kNow * kSecond);
  KeyStore store({file.path()}, clock);
  ASSERT_TRUE(store.Load().ok());
  AuthResult<ResolvedKey> key = store.Resolve((*session)["AccessKeyId"].get<std::string>(),
                                              (*session)["SessionToken"].get<std::string>());
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->secret_access_key, (*session)["SecretAccessKey"]);
  EXPECT_EQ(key->identity.name, "browser");
  EXPECT_TRUE(key->identity.Allows("xray:PutTraceSegments"));
  // Session keys are not stored.
  EXPECT_EQ(ListKeys(file.path())->size(), 1u);
}

TEST(KeyAdminTest, CreateRejectsBadActionsAndTtls) {
  testing::TempKeysFile file;
  EXPECT_EQ(CreateKey(file.path(), {{}, std::nullopt, ""}, kNow).status().code(),
            StatusCode::kInvalidArgument);
  Status bad = CreateKey(file.path(), {{"xray:Put Trace"}, std::nullopt, ""}, kNow).status();
  EXPECT_NE(bad.message().find("'xray:Put Trace' is not an action"), std::string::npos);
  EXPECT_FALSE(CreateKey(file.path(), {{"*"}, 0, ""}, kNow).ok());
  EXPECT_FALSE(CreateKey(file.path(), {{"*"}, 8 * 24 * 3600, ""}, kNow).ok());
  EXPECT_EQ(ListKeys(file.path()).status().code(), StatusCode::kNotFound);
}

TEST(KeyAdminTest, RevokeRemovesKeysAndListsSessionKeys) {
  testing::TempKeysFile file;
  const std::string id = (*CreateKey(file.path(), {{"*"}, std::nullopt, ""}, kNow))["AccessKeyId"];
  const nlohmann::json session = *CreateKey(file.path(), {{"*"}, 3600, ""}, kNow);
  const std::string session_id = session["AccessKeyId"];

  Result<std::string> revoked = RevokeKey(file.path(), id, kNow);
  ASSERT_TRUE(revoked.ok());
  EXPECT_NE(revoked->find(id), std::string::npos);
  EXPECT_EQ(ReadKeysFile(file.path())->Find(id), nullptr);
  EXPECT_EQ(RevokeKey(file.path(), id, kNow).status().code(), StatusCode::kNotFound);
  testing::TempKeysFile none;
  EXPECT_EQ(RevokeKey(none.path(), id, kNow).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(RevokeAllSessionKeys(none.path()).code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(none.path() + ".lock"));

  ASSERT_TRUE(RevokeKey(file.path(), session_id, kNow).ok());
  EXPECT_TRUE(ReadKeysFile(file.path())->IsRevoked(session_id));
  FakeClock clock(kNow * kSecond);
  KeyStore store({file.path()}, clock);
  ASSERT_TRUE(store.Load().ok());
  EXPECT_FALSE(store.Resolve(session_id, session["SessionToken"].get<std::string>()).ok());

  // Revocations are dropped once every session key they could name has expired.
  ASSERT_TRUE(
      CreateKey(file.path(), {{"*"}, std::nullopt, ""}, kNow + kMaxCliSessionSeconds + 1).ok());
  EXPECT_FALSE(ReadKeysFile(file.path())->IsRevoked(session_id));
}

TEST(KeyAdminTest, RevokeAllSessionKeysReplacesTheTokenKey) {
  testing::TempKeysFile file;
  const nlohmann::json session = *CreateKey(file.path(), {{"*"}, 3600, ""}, kNow);
  FakeClock clock(kNow * kSecond);
  KeyStore store({file.path()}, clock);
  ASSERT_TRUE(store.Load().ok());
  ASSERT_TRUE(store
                  .Resolve(session["AccessKeyId"].get<std::string>(),
                           session["SessionToken"].get<std::string>())
                  .ok());
  ASSERT_TRUE(RevokeAllSessionKeys(file.path()).ok());
  store.Reload();
  EXPECT_FALSE(store
                   .Resolve(session["AccessKeyId"].get<std::string>(),
                            session["SessionToken"].get<std::string>())
                   .ok());
}

}  // namespace
}  // namespace roentgen::auth
