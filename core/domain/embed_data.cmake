# Writes each reference file of DATA_DIR as a C++ raw string constant into OUT.
file(READ ${DATA_DIR}/districts.csv DISTRICTS)
file(READ ${DATA_DIR}/ita_items_2568.csv ITEMS_2568)
file(WRITE ${OUT}
  "constexpr absl::string_view kDistrictsCsv = R\"csv(${DISTRICTS})csv\";\n"
  "constexpr absl::string_view kItaItems2568Csv = R\"csv(${ITEMS_2568})csv\";\n")
