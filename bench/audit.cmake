# Verification of an export beside raw OpenSSL SHA-256, and inclusion-proof
# latency at a million events (bench/audit_bench.cc).
add_executable(audit_bench ${CMAKE_CURRENT_LIST_DIR}/audit_bench.cc)
target_link_libraries(audit_bench PRIVATE
  prongsai::audit_service prongsai::testing OpenSSL::Crypto gRPC::grpc++)
target_include_directories(audit_bench PRIVATE ${PROJECT_SOURCE_DIR})
