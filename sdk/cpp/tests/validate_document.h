// Reads the datagrams the recorder sent as Roentgen's UDP receiver does:
// fails the calling test when Roentgen would reject one, and returns the
// documents.
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "roentgen/xray.h"
#include "test_daemon.h"
#include "xray/segment_parser.h"

namespace roentgen::sdk::testing {

inline nlohmann::json Validate(const std::string& datagram) {
  auto doc = roentgen::xray::SplitDaemonDatagram(datagram);
  EXPECT_TRUE(doc.ok()) << datagram;
  if (!doc.ok()) return {};
  roentgen::xray::SegmentParser parser;
  std::vector<roentgen::xray::SegmentDocument> out;
  roentgen::xray::ParseFailure failure;
  EXPECT_TRUE(parser.Parse(*doc, out, failure)) << failure.message << "\n" << *doc;
  return nlohmann::json::parse(*doc);
}

// Every document the recorder has sent to `daemon` (flushed first, so none is
// in flight on loopback); fails the test unless there are `expected`.
inline std::vector<nlohmann::json> Sent(Recorder& recorder, FakeDaemon& daemon, size_t expected) {
  EXPECT_TRUE(recorder.Flush());
  std::vector<nlohmann::json> out;
  for (const auto& d : daemon.Receive(expected + 1, std::chrono::milliseconds(200)))
    out.push_back(Validate(d));
  EXPECT_EQ(out.size(), expected);
  return out;
}

}  // namespace roentgen::sdk::testing
