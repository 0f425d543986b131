# Every dependency is a Debian package; nothing is downloaded at configure or
# build time. A missing one stops configuration with the package to install.
include_guard(GLOBAL)

macro(streamcheck_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR
      "streamcheck needs ${what}: install the Debian package '${package}' "
      "(or run scripts/bootstrap, which installs everything missing).")
  endif()
endmacro()

find_package(Threads REQUIRED)

find_package(CURL QUIET)
streamcheck_require(CURL_FOUND "libcurl" "libcurl4-openssl-dev")

find_package(OpenSSL QUIET COMPONENTS Crypto SSL)
streamcheck_require(OPENSSL_FOUND "OpenSSL (SHA-256, TLS for the raw HTTP client)" "libssl-dev")

find_package(nlohmann_json 3.10 QUIET)
streamcheck_require(nlohmann_json_FOUND "nlohmann/json" "nlohmann-json3-dev")

find_package(CLI11 QUIET)
streamcheck_require(CLI11_FOUND "CLI11" "libcli11-dev")

# Beast's HTTP parser and Asio's event loop, header-only in Debian 12's 1.74.
find_package(Boost 1.74 QUIET)
streamcheck_require(Boost_FOUND "Boost.Beast and Boost.Asio (1.74 or newer)" "libboost-dev")
# Every user of Beast and Asio compiles them with the same settings: the mock
# and the server link into one binary, and Beast's types change with these
# macros (one definition rule). Beast's string_view is std::string_view; Asio
# without its deprecated names.
add_library(streamcheck_boost INTERFACE)
target_link_libraries(streamcheck_boost INTERFACE Boost::headers)
target_compile_definitions(streamcheck_boost INTERFACE BOOST_BEAST_USE_STD_STRING_VIEW
                                                       BOOST_ASIO_NO_DEPRECATED)

find_package(ZLIB QUIET)
streamcheck_require(ZLIB_FOUND "zlib" "zlib1g-dev")

find_package(yaml-cpp QUIET)
streamcheck_require(yaml-cpp_FOUND "yaml-cpp (YAML baselines, run --expect)" "libyaml-cpp-dev")

find_package(PkgConfig QUIET)
streamcheck_require(PKG_CONFIG_FOUND "pkg-config" "pkg-config")
pkg_check_modules(HTTPLIB QUIET IMPORTED_TARGET cpp-httplib>=0.11)
streamcheck_require(HTTPLIB_FOUND "cpp-httplib 0.11 or newer" "libcpp-httplib-dev")

if(STREAMCHECK_BUILD_TESTS)
  find_package(GTest QUIET)
  streamcheck_require(GTest_FOUND "GoogleTest and GoogleMock" "libgtest-dev libgmock-dev")
endif()
