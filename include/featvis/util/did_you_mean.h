#pragma once
// "Did you mean" for error messages: the candidates closest to a misspelt name.
#include <cstddef>
#include <string>
#include <vector>

namespace featvis {

// Indices of at most `count` candidates, closest first: a candidate containing `wanted`
// is at distance 0, others at their Levenshtein distance; equal distances keep the
// candidates' order.
std::vector<size_t> did_you_mean(const std::string& wanted, const std::vector<std::string>& candidates,
                                 size_t count = 3);

}  // namespace featvis
