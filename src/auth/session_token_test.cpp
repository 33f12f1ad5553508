#include "auth/session_token.h"

#include <gtest/gtest.h>

#include "auth/crypto.h"

namespace roentgen::auth {
namespace {

SessionClaims Claims() {
  SessionClaims c;
  c.access_key_id = "ASRGAAAAAAAAAAAAAAAA";
  c.issued_s = 1000;
  c.expiration_s = 4600;
  c.actions = {"xray:PutTraceSegments"};
  c.parent = "AKRGBBBBBBBBBBBBBBBB";
  c.name = "browser";
  return c;
}

TEST(SessionTokenTest, OpensWhatItMinted) {
  const std::string key = RandomBytes(32);
  const SessionKeys keys = MintSessionKeys(key, Claims());
  EXPECT_EQ(keys.access_key_id, "ASRGAAAAAAAAAAAAAAAA");
  EXPECT_EQ(keys.secret_access_key.size(), 40u);
  EXPECT_EQ(keys.expiration_s, 4600);
  EXPECT_TRUE(keys.session_token.starts_with("RGST1."));
  std::optional<SessionClaims> opened = OpenSessionToken(key, keys.session_token);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(opened->access_key_id, "ASRGAAAAAAAAAAAAAAAA");
  EXPECT_EQ(opened->issued_s, 1000);
  EXPECT_EQ(opened->expiration_s, 4600);
  EXPECT_EQ(opened->actions, std::vector<std::string>{"xray:PutTraceSegments"});
  EXPECT_EQ(opened->parent, "AKRGBBBBBBBBBBBBBBBB");
  EXPECT_EQ(opened->name, "browser");
  EXPECT_EQ(SessionSecret(key, keys.session_token), keys.secret_access_key);
}

TEST(SessionTokenTest, AnotherKeyOrAnAlteredTokenOpensNothing) {
  const std::string key = RandomBytes(32);
  const SessionKeys keys = MintSessionKeys(key, Claims());
  EXPECT_FALSE(OpenSessionToken(RandomBytes(32), keys.session_token).has_value());
  EXPECT_FALSE(OpenSessionToken("", keys.session_token).has_value());
  EXPECT_EQ(SessionSecret(RandomBytes(32), keys.session_token), "");

  // Claims rewritten (a later expiration, more actions) with the old MAC.
  SessionClaims greedy = Claims();
  greedy.expiration_s = 999999;
  greedy.actions = {"*"};
  const SessionKeys other = MintSessionKeys(RandomBytes(32), greedy);
  const std::string forged = other.session_token.substr(0, other.session_token.rfind('.')) +
                             keys.session_token.substr(keys.session_token.rfind('.'));
  EXPECT_FALSE(OpenSessionToken(key, forged).has_value());

  for (const std::string& bad : {std::string(""), std::string("RGST1."), std::string("RGST1.a.b"),
                                 std::string("AQoDYXdzEPT//////////wEXAMPLE"),
                                 keys.session_token + "x", keys.session_token.substr(1)}) {
    EXPECT_FALSE(OpenSessionToken(key, bad).has_value()) << bad;
  }
}

TEST(SessionTokenTest, EachKeyHasItsOwnSecret) {
  const std::string key = RandomBytes(32);
  SessionClaims a = Claims();
  SessionClaims b = Claims();
  b.access_key_id = "ASRGCCCCCCCCCCCCCCCC";
  EXPECT_NE(MintSessionKeys(key, a).secret_access_key, MintSessionKeys(key, b).secret_access_key);
  EXPECT_NE(MintSessionKeys(key, a).secret_access_key,
            MintSessionKeys(RandomBytes(32), a).secret_access_key);
}

}  // namespace
}  // namespace roentgen::auth
