#pragma once
// Pieces of the objective text form shared by descriptions and the parser, so that a
// description reads back as the objective it describes.
#include <string>

namespace featvis::objective::text {

// Characters of an unquoted name (layers, files, labels): [A-Za-z0-9_/.].
bool is_name_char(char c);
// `name` as written in an objective: bare if it is a plain run of name characters that
// cannot be read as a number or a keyword of the kind table, otherwise quoted ('...', or "..." if it holds ').
std::string quote(const std::string& name);
// Shortest decimal form that reads back as the same double ("2.5", "0.001", "1e-08").
std::string number(double value);

}  // namespace featvis::objective::text
