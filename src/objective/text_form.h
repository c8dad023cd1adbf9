#pragma once
// Pieces of the objective text form shared by descriptions and the parser, so that a
// description reads back as the objective it describes.
#include <string>

namespace featvis::objective::text {

// Characters of an unquoted name (layers, files, labels): [A-Za-z0-9_/.].
bool is_name_char(char c);
// Bare words with a meaning of their own: penalties and the class targets.
bool is_keyword(const std::string& word);
// `name` as written in an objective: bare if it is a plain run of name characters that
// cannot be read as a number or keyword, otherwise quoted ('...', or "..." if it holds ').
std::string quote(const std::string& name);
// Shortest decimal form that reads back as the same double ("2.5", "0.001", "1e-08").
std::string number(double value);

}  // namespace featvis::objective::text
