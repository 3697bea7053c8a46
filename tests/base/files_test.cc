#include "core/base/files.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tests/testing/testing.h"

namespace prongsai {
namespace {

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(ReadWholeFileTest, ReadsEveryByteOfFilesOfAnySize) {
  testing::TempDir dir;
  for (size_t size : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096},
                      size_t{4097}, size_t{3} << 20}) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) {
      bytes[i] = static_cast<char>(i * 131 + 7);
    }
    const std::string path = dir.Sub("file-" + std::to_string(size));
    WriteFile(path, bytes);
    absl::StatusOr<std::string> read = ReadWholeFile(path);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ(*read, bytes) << "size " << size;
  }
}

TEST(ReadWholeFileTest, ReadsFilesWhoseSizeIsNotKnownAhead) {
  // /proc files report size 0 and still have content.
  absl::StatusOr<std::string> status = ReadWholeFile("/proc/self/status");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_NE(status->find("VmRSS"), std::string::npos);
}

TEST(ReadWholeFileTest, NamesAMissingOrUnreadablePath) {
  testing::TempDir dir;
  absl::StatusOr<std::string> missing = ReadWholeFile(dir.Sub("none"));
  EXPECT_TRUE(absl::IsNotFound(missing.status()));
  EXPECT_NE(missing.status().message().find(dir.Sub("none")),
            std::string::npos);
  absl::StatusOr<std::string> directory = ReadWholeFile(dir.path());
  EXPECT_FALSE(directory.ok());
  EXPECT_NE(directory.status().message().find(dir.path()), std::string::npos);
}

}  // namespace
}  // namespace prongsai
