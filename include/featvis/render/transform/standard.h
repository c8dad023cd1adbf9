#pragma once
// Lucid's standard transformation set and the text form used by --transforms.
#include <featvis/render/transform/transform.h>

#include <string>
#include <vector>

namespace featvis::render::transform {

// pad(12) -> jitter(8) -> scale{1+(i-5)/50, i=0..10} -> rotate{-10..10 deg plus five
// extra 0s} -> jitter(4), as lucid.optvis.transform.standard_transforms.
Transform standard();

// "standard", "none", or a comma list of
//   pad(W)  pad(W,reflect)  pad(W,VALUE)  jitter(D)
//   scale(S)  scale(LO,HI)  scale{S1,S2,...}     (factors; (LO,HI) is uniform)
//   rotate(A)  rotate(LO,HI)  rotate{A1,A2,...}  (degrees)
// e.g. "pad(12),jitter(8),scale(0.9,1.1),rotate(-10,10),jitter(4)". Every description()
// parses back to an equivalent transform. Throws featvis::Error naming the bad part.
Transform parse(const std::string& text);

// The same text as its single transforms, in order, for compose() with a chosen
// Resampling ("none" gives an empty list).
std::vector<Transform> parse_steps(const std::string& text);

}  // namespace featvis::render::transform
