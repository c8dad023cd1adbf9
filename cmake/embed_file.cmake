# cmake -DNAME=<fn> -DINPUT=<file> -DOUTPUT=<source.cpp> -P embed_file.cmake
# Writes a C++ source defining `std::string_view featvis::microscope::<fn>()` that returns
# the bytes of INPUT, so the library carries the file instead of looking it up at run time.
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/embed_file.cmake; do not edit.\n"
  "#include <featvis/microscope/site_assets.h>\n\n"
  "namespace featvis::microscope {\n"
  "namespace {\n"
  "const unsigned char kBytes[] = {${bytes}};\n"
  "}  // namespace\n\n"
  "std::string_view ${NAME}() { return {reinterpret_cast<const char*>(kBytes), sizeof kBytes}; }\n\n"
  "}  // namespace featvis::microscope\n")
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
