#include "auth/keys_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "auth/crypto.h"

namespace roentgen::auth {
namespace {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/roentgen-keys-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TEST(KeysFileTest, ParsesTheDocumentedFormat) {
  const std::string key = Base64UrlEncode(std::string(32, 'k'));
  Result<KeysFile> file = ParseKeysFile(R"({
    "Version": 1,
    "SessionTokenKey": ")" + key + R"(",
    "Keys": [
      {"AccessKeyId": "AKRGAAAAAAAAAAAAAAAA", "SecretAccessKey": "0123456789abcdef0123",
       "Name": "ingest", "Actions": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
       "Created": "2026-01-31T12:00:00Z"},
      {"AccessKeyId": "AKIDEXAMPLE", "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
       "Actions": ["*"]}
    ],
    "RevokedSessionKeys": [{"AccessKeyId": "ASRGBBBBBBBBBBBBBBBB", "Revoked": "2026-02-01T00:00:00Z"}]
  })");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->session_token_key, std::string(32, 'k'));
  ASSERT_EQ(file->keys.size(), 2u);
  EXPECT_EQ(file->keys[0].name, "ingest");
  EXPECT_EQ(file->keys[0].actions.size(), 2u);
  EXPECT_EQ(file->keys[0].created_s, 1769860800);
  ASSERT_NE(file->Find("AKIDEXAMPLE"), nullptr);
  EXPECT_EQ(file->Find("AKIDEXAMPL"), nullptr);
  EXPECT_TRUE(file->IsRevoked("ASRGBBBBBBBBBBBBBBBB"));
  EXPECT_FALSE(file->IsRevoked("ASRGCCCCCCCCCCCCCCCC"));

  // Serializing and parsing again gives the same file.
  Result<KeysFile> again = ParseKeysFile(SerializeKeysFile(file.value()));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(SerializeKeysFile(again.value()), SerializeKeysFile(file.value()));
}

TEST(KeysFileTest, RejectsBadFilesNamingTheField) {
  struct Case {
    const char* json;
    const char* message;
  } cases[] = {
      {"[]", "not a JSON object"},
      {"{", "not a JSON object"},
      {R"({"Version": 2})", "Version must be 1"},
      {R"({"SessionTokenKey": "short"})", "SessionTokenKey must be 32 bytes"},
      {R"({"Keys": [{"SecretAccessKey": "0123456789abcdef", "Actions": []}]})",
       "Keys[0].AccessKeyId is missing"},
      {R"({"Keys": [{"AccessKeyId": "AK RG", "SecretAccessKey": "0123456789abcdef", "Actions": []}]})",
       "Keys[0].AccessKeyId must be"},
      {R"({"Keys": [{"AccessKeyId": "ASRGX", "SecretAccessKey": "0123456789abcdef", "Actions": []}]})",
       "may not start with ASRG"},
      {R"({"Keys": [{"AccessKeyId": "AKRG1", "SecretAccessKey": "short", "Actions": []}]})",
       "Keys[0].SecretAccessKey must be"},
      {R"({"Keys": [{"AccessKeyId": "AKRG1", "SecretAccessKey": "0123456789abcdef"}]})",
       "Keys[0].Actions must be an array"},
      {R"({"Keys": [{"AccessKeyId": "AKRG1", "SecretAccessKey": "0123456789abcdef", "Actions": ["s3:GetObject"]}]})",
       "Keys[0].Actions: \"s3:GetObject\" is not an action"},
      {R"({"Keys": [{"AccessKeyId": "AKRG1", "SecretAccessKey": "0123456789abcdef", "Actions": []},
                    {"AccessKeyId": "AKRG1", "SecretAccessKey": "0123456789abcdef", "Actions": []}]})",
       "Keys[1].AccessKeyId AKRG1 appears twice"},
      {R"({"Keys": [{"AccessKeyId": "AKRG1", "SecretAccessKey": "0123456789abcdef", "Actions": [], "Created": "yesterday"}]})",
       "Keys[0].Created must be a time"},
  };
  for (const Case& c : cases) {
    Result<KeysFile> file = ParseKeysFile(c.json);
    ASSERT_FALSE(file.ok()) << c.json;
    EXPECT_NE(file.status().message().find(c.message), std::string::npos)
        << c.json << " → " << file.status().message();
  }
}

// Root's `roentgen keys create` on the keys file of a server running as its
// own user leaves the file that user's.
TEST(KeysFileTest, RootKeepsTheOwnerOfTheFileItReplaces) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (to give a file away)";
  TempDir dir;
  const std::string path = dir.File("keys.json");
  KeysFile file;
  file.session_token_key = NewSessionTokenKey();
  ASSERT_TRUE(WriteKeysFile(path, file).ok());
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);  // nobody:nogroup
  file.keys.push_back({NewAccessKeyId(false), NewSecretAccessKey(), "n", {"xray:*"}, 1});
  ASSERT_TRUE(WriteKeysFile(path, file).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65534u);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(KeysFileTest, WritesAtomicallyWithMode0600) {
  TempDir dir;
  const std::string path = dir.File("keys.json");
  EXPECT_EQ(ReadKeysFile(path).status().code(), StatusCode::kNotFound);
  KeysFile file;
  file.session_token_key = NewSessionTokenKey();
  file.keys.push_back({NewAccessKeyId(false), NewSecretAccessKey(), "n", {"xray:*"}, 1});
  ASSERT_TRUE(WriteKeysFile(path, file).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<KeysFile> back = ReadKeysFile(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(SerializeKeysFile(back.value()), SerializeKeysFile(file));
  // Only the file (and no temporary) is left in the directory.
  size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.File(""))) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1u);

  std::ofstream(path) << "{ not json";
  Result<KeysFile> broken = ReadKeysFile(path);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find(path), std::string::npos);
}

TEST(KeysFileTest, NewIdsAndSecretsLookLikeAwsKeys) {
  const std::string id = NewAccessKeyId(false);
  EXPECT_EQ(id.size(), 20u);
  EXPECT_TRUE(id.starts_with("AKRG"));
  EXPECT_EQ(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), std::string::npos);
  EXPECT_TRUE(NewAccessKeyId(true).starts_with("ASRG"));
  EXPECT_NE(NewAccessKeyId(false), NewAccessKeyId(false));
  EXPECT_EQ(NewSecretAccessKey().size(), 40u);
  EXPECT_EQ(NewSessionTokenKey().size(), 32u);
}

TEST(KeysFileTest, LockSerializesWriters) {
  TempDir dir;
  const std::string path = dir.File("keys.json");
  Result<KeysFileLock> first = KeysFileLock::Acquire(path);
  ASSERT_TRUE(first.ok());
  // A second lock from another open file description would block; flock with
  // LOCK_NB shows the lock is held.
  int fd = ::open((path + ".lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  EXPECT_NE(flock(fd, LOCK_EX | LOCK_NB), 0);
  { KeysFileLock released = std::move(first).value(); }
  EXPECT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
  ::close(fd);
}

}  // namespace
}  // namespace roentgen::auth
