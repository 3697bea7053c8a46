# Writes the service catalog (DATA_DIR/service_catalog.csv) as a C++ raw
# string constant into OUT.
file(READ ${DATA_DIR}/service_catalog.csv CATALOG)
file(WRITE ${OUT}
  "constexpr absl::string_view kServiceCatalogCsv = R\"csv(${CATALOG})csv\";\n")
