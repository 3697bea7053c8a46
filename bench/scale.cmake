# How the log scales with the number of streams, at the log level
# (bench/scale_bench.cc).
add_executable(scale_bench ${CMAKE_CURRENT_LIST_DIR}/scale_bench.cc)
target_link_libraries(scale_bench PRIVATE
  prongsai::log prongsai::projection_runtime prongsai::testing)
target_include_directories(scale_bench PRIVATE ${PROJECT_SOURCE_DIR})
