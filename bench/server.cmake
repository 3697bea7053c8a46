# A real `prongsai serve` data directory of N generated events, for bench/run's
# memory and restart rows (bench/server_data.cc).
add_executable(server_data ${CMAKE_CURRENT_LIST_DIR}/server_data.cc)
target_link_libraries(server_data PRIVATE prongsai::server gRPC::grpc++)
target_include_directories(server_data PRIVATE ${PROJECT_SOURCE_DIR})
