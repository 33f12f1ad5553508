// Tests only: a fresh directory for the running test, under the system's
// temp dir, named after the process and the test (parameterised names made
// safe), so tests run in parallel by ctest never share one. Whatever a
// crashed earlier run left there is removed first; the destructor removes
// the directory, also when the test failed. Not thread-safe.
//
//   class MyTest : public ::testing::Test {
//    protected:
//     TestDir test_dir_{"my-test"};  // /tmp/my-test-<pid>-<test name>
//     const std::filesystem::path dir_ = test_dir_.path();
//   };
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace roentgen::testing {

class TestDir {
 public:
  explicit TestDir(std::string_view prefix) {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = test != nullptr ? test->name() : "no-test";
    std::replace(name.begin(), name.end(), '/', '_');
    path_ = std::filesystem::temp_directory_path() /
            (std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + name);
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
    std::filesystem::create_directories(path_, ec);
  }
  ~TestDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace roentgen::testing
