#pragma once
// The objective text form used on the command line, read against a model.
#include <featvis/model/model.h>
#include <featvis/objective/objective.h>

#include <string>

namespace featvis::objective {

// Parses the CLI text form, checking every layer, channel and class against the model:
//   LAYER:C  LAYER:C@X,Y  LAYER:C@center  LAYER  LAYER:A-B (one unit per batch item)
//   logit:K  prob:K   (K an index or a label of the card, e.g. logit:'tiger cat')
//   direction(LAYER, FILE)  dot(LAYER, FILE)   (FILE: .npy, or numbers in text)
//   direction_neuron(LAYER, FILE)  dot_neuron(LAYER, FILE)  (centre; add ", X, Y")
//   diversity(LAYER)  alignment(LAYER)  alignment(LAYER, DECAY)
//   channel_interpolate(L1:C1, L2:C2)
//   l1  l2  tv  blur   a + b   a - b   2.5*a   a*2.5   -a   (a)   a | b | c
// `|` binds loosest, then + and -, then *, then unary -. Names are runs of
// [A-Za-z0-9_/.]; others, and names that are keywords (l1, tv, ...), are quoted:
// 'odd-name':3 or "odd-name":3. A unit range is written without spaces (conv1:0-3).
// Layer shapes come from one forward pass of a zero image at the card's input size.
// Errors are featvis::Error, one line, with the 1-based column:
//   "objective 'x:9999' at 3: channel 9999 out of range ...".
Objective parse(const std::string& text, const model::Model& model);

}  // namespace featvis::objective
