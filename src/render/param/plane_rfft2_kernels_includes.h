#pragma once
// Everything plane_rfft2_kernels.h includes, included by the lane files before their target
// pragma, so that no library code is compiled for the wider instruction set.
#include <featvis/render/param/plane_rfft2.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>
