# The report views and queries on the demo city (bench/reports_bench.cc).
add_executable(reports_bench ${CMAKE_CURRENT_LIST_DIR}/reports_bench.cc)
target_link_libraries(reports_bench PRIVATE
  prongsai::query prongsai::report_projections prongsai::ingest
  prongsai::server prongsai::testing RocksDB::rocksdb)
target_include_directories(reports_bench PRIVATE ${PROJECT_SOURCE_DIR})
