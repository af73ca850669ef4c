# Every external dependency is found here, once, as an imported target.
find_package(MPI REQUIRED COMPONENTS C CXX)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
find_package(PROJ REQUIRED CONFIG)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
find_package(ZLIB REQUIRED)
find_package(PkgConfig REQUIRED)

# Debian's PETSc ships a pkg-config file under its own prefix.
if(NOT DEFINED ENV{PETSC_DIR} AND EXISTS /usr/lib/petsc)
  set(ENV{PETSC_DIR} /usr/lib/petsc)
endif()
if(DEFINED ENV{PETSC_DIR})
  set(ENV{PKG_CONFIG_PATH} "$ENV{PETSC_DIR}/lib/pkgconfig:$ENV{PKG_CONFIG_PATH}")
endif()
pkg_check_modules(PETSC REQUIRED IMPORTED_TARGET PETSc>=3.18)

# Parallel HDF5, Open MPI flavour, asked for by name: a plain find_package(HDF5)
# silently picks the serial library when both are installed.
pkg_check_modules(HDF5 REQUIRED IMPORTED_TARGET hdf5-openmpi>=1.10)
include(CheckSymbolExists)
set(CMAKE_REQUIRED_INCLUDES ${HDF5_INCLUDE_DIRS} ${MPI_C_INCLUDE_DIRS})
check_symbol_exists(H5_HAVE_PARALLEL "H5pubconf.h" VIGIE_HDF5_IS_PARALLEL)
unset(CMAKE_REQUIRED_INCLUDES)
if(NOT VIGIE_HDF5_IS_PARALLEL)
  message(FATAL_ERROR "The HDF5 found (${HDF5_INCLUDE_DIRS}) is not built with MPI; install libhdf5-openmpi-dev")
endif()

# Random123 is header-only (librandom123-dev).
find_path(RANDOM123_INCLUDE_DIR Random123/philox.h REQUIRED)
add_library(Vigie::Random123 INTERFACE IMPORTED)
target_include_directories(Vigie::Random123 SYSTEM INTERFACE ${RANDOM123_INCLUDE_DIR})

if(VIGIE_ENABLE_TESTS)
  find_package(GTest REQUIRED)
endif()
if(VIGIE_ENABLE_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()

# xxHash (libxxhash-dev): 128-bit row identities for idempotent appends.
find_path(XXHASH_INCLUDE_DIR xxhash.h REQUIRED)
find_library(XXHASH_LIBRARY xxhash REQUIRED)
add_library(Vigie::xxhash UNKNOWN IMPORTED)
set_target_properties(Vigie::xxhash PROPERTIES IMPORTED_LOCATION ${XXHASH_LIBRARY}
                                               INTERFACE_INCLUDE_DIRECTORIES ${XXHASH_INCLUDE_DIR})

# fast_float (libfast-float-dev, header-only): number parsing at memory speed in the CSV reader.
find_path(FAST_FLOAT_INCLUDE_DIR fast_float/fast_float.h REQUIRED)
add_library(Vigie::fast_float INTERFACE IMPORTED)
target_include_directories(Vigie::fast_float SYSTEM INTERFACE ${FAST_FLOAT_INCLUDE_DIR})

# libtiff (libtiff-dev): GeoTIFF maps for QGIS; the GeoTIFF tags themselves are defined in store/GeoTiff.cpp.
find_package(TIFF REQUIRED)
