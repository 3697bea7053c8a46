// Memory hints for large, short-lived arrays.
#pragma once

#include <cstddef>

namespace prongsai {

// Asks the kernel to back the whole 2 MiB pages inside [data, data + bytes)
// with huge pages: one page fault (and one TLB entry) per 2 MiB instead of
// per 4 KiB, where transparent huge pages are enabled for `madvise`. A hint
// only; ignored for ranges under 2 MiB and where the kernel declines.
void AdviseHugePages(void* data, size_t bytes);

}  // namespace prongsai
