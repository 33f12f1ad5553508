#include "auth/key_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "auth/auth_test_util.h"

namespace roentgen::auth {
namespace {

using testing::kNow;
using testing::kSecond;

const KeyEntry kReader{"AKRGREADERAAAAAAAAAA",
                       "reader-secret-0123456789",
                       "reader",
                       {"xray:Get*", "xray:BatchGetTraces"},
                       0};
const KeyEntry kWriter{
    "AKRGWRITERAAAAAAAAAA", "writer-secret-0123456789", "writer", {"xray:PutTraceSegments"}, 0};

class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(WriteKeysFile(file_.path(), testing::MakeKeysFile({kReader})).ok());
    ASSERT_TRUE(store_.Load().ok());
  }
  void Write(const KeysFile& f) { ASSERT_TRUE(WriteKeysFile(file_.path(), f).ok()); }
  SessionKeys Session(std::vector<std::string> actions, int64_t ttl, std::string parent = "") {
    SessionClaims c;
    c.access_key_id = NewAccessKeyId(true);
    c.issued_s = kNow;
    c.expiration_s = kNow + ttl;
    c.actions = std::move(actions);
    c.parent = std::move(parent);
    return MintSessionKeys(store_.Snapshot()->session_token_key, c);
  }

  testing::TempKeysFile file_;
  FakeClock clock_{kNow * kSecond};
  KeyStore store_{{file_.path()}, clock_};
};

TEST_F(KeyStoreTest, LoadFailsClearlyWithoutAFile) {
  KeyStore missing({file_.path() + ".nope"}, clock_);
  Status s = missing.Load();
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("does not exist"), std::string::npos);
}

TEST_F(KeyStoreTest, ResolvesALongLivedKey) {
  AuthResult<ResolvedKey> key = store_.Resolve(kReader.access_key_id, "");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->secret_access_key, kReader.secret_access_key);
  EXPECT_EQ(key->identity.name, "reader");
  EXPECT_TRUE(key->identity.Allows("xray:GetTraceSummaries"));
  EXPECT_FALSE(key->identity.Allows("xray:PutTraceSegments"));
  EXPECT_EQ(key->identity.Arn(), "arn:roentgen:iam::key/AKRGREADERAAAAAAAAAA");

  AuthResult<ResolvedKey> unknown = store_.Resolve("AKRGNOPE", "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().name(), "UnrecognizedClientException");
  EXPECT_EQ(unknown.error().message, "The security token included in the request is invalid.");

  // A long-lived key with a session token is not that key.
  EXPECT_FALSE(store_.Resolve(kReader.access_key_id, "RGST1.x.y").ok());
}

TEST_F(KeyStoreTest, AKeyAddedWhileRunningWorksAtOnce) {
  Write(testing::MakeKeysFile({kReader, kWriter}));
  // No time has passed, but an unknown key makes the store look at the file.
  AuthResult<ResolvedKey> key = store_.Resolve(kWriter.access_key_id, "");
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_TRUE(key->identity.Allows("xray:PutTraceSegments"));
}

TEST_F(KeyStoreTest, ARemovedKeyStopsWithinTheCheckInterval) {
  Write(testing::MakeKeysFile({kWriter}));
  // Checked at most once a second: still known just after the change...
  EXPECT_TRUE(store_.Resolve(kReader.access_key_id, "").ok());
  clock_.Advance(kSecond);
  // ...and gone once the interval has passed.
  EXPECT_FALSE(store_.Resolve(kReader.access_key_id, "").ok());
  EXPECT_TRUE(store_.Resolve(kWriter.access_key_id, "").ok());
}

TEST_F(KeyStoreTest, ReloadForcesACheck) {
  Write(testing::MakeKeysFile({kWriter}));
  store_.Reload();
  EXPECT_FALSE(store_.Resolve(kReader.access_key_id, "").ok());
}

TEST_F(KeyStoreTest, ABrokenFileKeepsTheLastKeysAndADeletedOneMeansNone) {
  std::ofstream(file_.path()) << "{\"Keys\": [";
  store_.Reload();
  EXPECT_TRUE(store_.Resolve(kReader.access_key_id, "").ok());

  std::filesystem::remove(file_.path());
  store_.Reload();
  EXPECT_FALSE(store_.Resolve(kReader.access_key_id, "").ok());

  Write(testing::MakeKeysFile({kReader}));
  EXPECT_TRUE(store_.Resolve(kReader.access_key_id, "").ok());
}

TEST_F(KeyStoreTest, SessionKeys) {
  const SessionKeys keys = Session({"xray:PutTraceSegments"}, 60);
  AuthResult<ResolvedKey> key = store_.Resolve(keys.access_key_id, keys.session_token);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->secret_access_key, keys.secret_access_key);
  EXPECT_TRUE(key->identity.session);
  EXPECT_EQ(key->identity.expiration_s, kNow + 60);
  EXPECT_TRUE(key->identity.Allows("xray:PutTraceSegments"));
  EXPECT_FALSE(key->identity.Allows("xray:GetTraceSummaries"));

  // Missing token for a session key; another key's token.
  EXPECT_EQ(store_.Resolve(keys.access_key_id, "").error().kind,
            AuthErrorKind::kUnrecognizedClient);
  const SessionKeys other = Session({"*"}, 60);
  EXPECT_EQ(store_.Resolve(keys.access_key_id, other.session_token).error().kind,
            AuthErrorKind::kUnrecognizedClient);

  // Past its expiration.
  clock_.Advance(59 * kSecond);
  EXPECT_TRUE(store_.Resolve(keys.access_key_id, keys.session_token).ok());
  clock_.Advance(1 * kSecond);
  AuthResult<ResolvedKey> expired = store_.Resolve(keys.access_key_id, keys.session_token);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().name(), "ExpiredTokenException");
  EXPECT_EQ(expired.error().message, "The security token included in the request is expired");
  EXPECT_EQ(expired.error().http_status(), 403);
}

TEST_F(KeyStoreTest, RevokedSessionKeysAndRevokedMakers) {
  const SessionKeys mine = Session({"xray:Get*"}, 600, kReader.access_key_id);
  ASSERT_TRUE(store_.Resolve(mine.access_key_id, mine.session_token).ok());
  const SessionKeys lone = Session({"xray:Get*"}, 600);

  KeysFile f = testing::MakeKeysFile({kReader});
  f.revoked_session_keys.push_back({lone.access_key_id, kNow});
  Write(f);
  store_.Reload();
  EXPECT_FALSE(store_.Resolve(lone.access_key_id, lone.session_token).ok());
  EXPECT_TRUE(store_.Resolve(mine.access_key_id, mine.session_token).ok());

  // The maker's actions bound its session keys, as they are now.
  KeyEntry narrowed = kReader;
  narrowed.actions = {"xray:BatchGetTraces"};
  Write(testing::MakeKeysFile({narrowed}));
  store_.Reload();
  AuthResult<ResolvedKey> bounded = store_.Resolve(mine.access_key_id, mine.session_token);
  ASSERT_TRUE(bounded.ok());
  EXPECT_FALSE(bounded->identity.Allows("xray:GetTraceSummaries"));

  // Revoking the maker revokes the session key.
  Write(testing::MakeKeysFile({kWriter}));
  store_.Reload();
  EXPECT_EQ(store_.Resolve(mine.access_key_id, mine.session_token).error().kind,
            AuthErrorKind::kUnrecognizedClient);
}

TEST_F(KeyStoreTest, ANewSessionTokenKeyRevokesEverySessionKey) {
  const SessionKeys keys = Session({"*"}, 600);
  KeysFile f = testing::MakeKeysFile({kReader});
  f.session_token_key = std::string(32, 'n');
  Write(f);
  store_.Reload();
  EXPECT_EQ(store_.Resolve(keys.access_key_id, keys.session_token).error().kind,
            AuthErrorKind::kUnrecognizedClient);
}

}  // namespace
}  // namespace roentgen::auth
