# The peer: the same events in a PostgreSQL events table through libpq, and
# the city overview in SQL (bench/pg_bench.cc). Built only where libpq is;
# bench/run installs postgresql and libpq-dev.
find_package(PostgreSQL QUIET)
if(PostgreSQL_FOUND)
  add_executable(pg_bench ${CMAKE_CURRENT_LIST_DIR}/pg_bench.cc)
  target_link_libraries(pg_bench PRIVATE
    prongsai::query prongsai::report_projections prongsai::ingest
    prongsai::testing PostgreSQL::PostgreSQL OpenSSL::Crypto)
  target_include_directories(pg_bench PRIVATE ${PROJECT_SOURCE_DIR})
else()
  message(STATUS "libpq not found: bench/pg_bench.cc is not built")
endif()
