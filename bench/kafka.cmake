# Ingest through Kafka beside the raw librdkafka producer (bench/kafka_bench.cc).
add_executable(kafka_bench ${CMAKE_CURRENT_LIST_DIR}/kafka_bench.cc)
target_link_libraries(kafka_bench PRIVATE
  prongsai::log prongsai::ingest prongsai::projection_runtime prongsai::testing
  PkgConfig::RDKAFKA)
target_include_directories(kafka_bench PRIVATE ${PROJECT_SOURCE_DIR})
