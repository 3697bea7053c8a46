# Writes the file IN as a C++ raw string constant NAME into OUT.
file(READ ${IN} CONTENT)
file(WRITE ${OUT} "constexpr absl::string_view ${NAME} = R\"jsonl(${CONTENT})jsonl\";\n")
