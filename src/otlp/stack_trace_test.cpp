#include "otlp/stack_trace.h"

#include <gtest/gtest.h>

namespace roentgen::otlp {
namespace {

TEST(StackTraceTest, JavaScript) {
  ParsedStack s = ParseStackTrace(
      "Error: boom\n"
      "    at Object.handler (/srv/app/index.js:42:13)\n"
      "    at async Server.<anonymous> (file:///srv/app/server.mjs:7:3)\n"
      "    at node:internal/process/task_queues:95:5\n",
      10);
  EXPECT_EQ(s.frames,
            (std::vector<StackFrame>{{"/srv/app/index.js", 42, "Object.handler"},
                                     {"file:///srv/app/server.mjs", 7, "async Server.<anonymous>"},
                                     {"node:internal/process/task_queues", 95, ""}}));
  EXPECT_EQ(s.truncated, 0);
}

TEST(StackTraceTest, Java) {
  ParsedStack s = ParseStackTrace(
      "java.lang.IllegalStateException: bad\n"
      "\tat com.shop.Cart.add(Cart.java:88)\n"
      "\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)\n"
      "Caused by: java.io.IOException\n"
      "\t... 3 more\n",
      10);
  EXPECT_EQ(s.frames, (std::vector<StackFrame>{
                          {"Cart.java", 88, "com.shop.Cart.add"},
                          {"Native Method", std::nullopt,
                           "java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0"}}));
}

TEST(StackTraceTest, PythonIsReversedToInnermostFirst) {
  ParsedStack s = ParseStackTrace(
      "Traceback (most recent call last):\n"
      "  File \"/app/main.py\", line 10, in <module>\n"
      "    run()\n"
      "  File \"/app/lib.py\", line 3, in run\n"
      "    raise ValueError()\n"
      "ValueError\n",
      10);
  EXPECT_EQ(s.frames,
            (std::vector<StackFrame>{{"/app/lib.py", 3, "run"}, {"/app/main.py", 10, "<module>"}}));
}

TEST(StackTraceTest, DotNet) {
  EXPECT_EQ(ParseStackLine("   at Shop.Cart.Add(Int32 id) in /src/Cart.cs:line 17"),
            (StackFrame{"/src/Cart.cs", 17, "Shop.Cart.Add(Int32 id)"}));
}

TEST(StackTraceTest, TruncatesPastMaxFrames) {
  std::string text = "Error\n";
  for (int i = 1; i <= 5; ++i)
    text += "    at f" + std::to_string(i) + " (/a.js:" + std::to_string(i) + ":1)\n";
  ParsedStack s = ParseStackTrace(text, 2);
  EXPECT_EQ(s.frames, (std::vector<StackFrame>{{"/a.js", 1, "f1"}, {"/a.js", 2, "f2"}}));
  EXPECT_EQ(s.truncated, 3);
}

TEST(StackTraceTest, UnknownLinesAreSkipped) {
  EXPECT_EQ(ParseStackLine("goroutine 1 [running]:"), std::nullopt);
  EXPECT_TRUE(ParseStackTrace("", 5).frames.empty());
}

}  // namespace
}  // namespace roentgen::otlp
