#include <featvis/render/transform/transform.h>
#include <featvis/util/error.h>

#include "one_resampling.h"

#include <sstream>

namespace featvis::render::transform {

Transform::Transform() : description_("none") {}

Transform::Transform(std::string description, Function function, std::optional<Geometry> geometry)
    : description_(std::move(description)), function_(std::move(function)), geometry_(std::move(geometry)) {}

at::Tensor Transform::operator()(const at::Tensor& image, at::Generator& generator) const {
  return function_ ? function_(image, generator) : image;
}

Transform compose(const std::vector<Transform>& transforms, Resampling resampling) {
  std::vector<Transform> steps;
  std::string description;
  for (const auto& t : transforms) {
    if (t.is_identity()) continue;
    steps.push_back(t);
    description += (description.empty() ? "" : ",") + t.description();
  }
  if (steps.empty()) return Transform();
  if (resampling == Resampling::kOnce && detail::can_resample_once(steps)) {
    return Transform(description, [steps](const at::Tensor& image, at::Generator& generator) {
      return detail::resample_once(steps, image, generator);
    });
  }
  return Transform(description, [steps](const at::Tensor& image, at::Generator& generator) {
    at::Tensor x = image;
    for (const auto& t : steps) x = t(x, generator);
    return x;
  });
}

int64_t random_int(at::Generator& generator, int64_t low, int64_t high) {
  if (high <= low) return low;
  return at::randint(low, high + 1, {1}, generator, at::TensorOptions().dtype(at::kLong)).item<int64_t>();
}

double random_uniform(at::Generator& generator, double low, double high) {
  if (high <= low) return low;
  const double u = at::rand({1}, generator, at::TensorOptions().dtype(at::kDouble)).item<double>();
  return low + (high - low) * u;
}

RandomChoice RandomChoice::one_of(std::vector<double> values) {
  if (values.empty()) throw Error("a random transform needs at least one value to choose from");
  return RandomChoice{std::move(values), false};
}

RandomChoice RandomChoice::uniform(double low, double high) {
  if (!(low <= high)) throw Error("empty range (" + std::to_string(low) + "," + std::to_string(high) + ")");
  return RandomChoice{{low, high}, true};
}

double RandomChoice::draw(at::Generator& generator) const {
  if (range) return random_uniform(generator, values.at(0), values.at(1));
  if (values.size() == 1) return values.front();
  return values.at(static_cast<size_t>(random_int(generator, 0, static_cast<int64_t>(values.size()) - 1)));
}

std::string RandomChoice::text() const {
  std::ostringstream s;
  const bool list = !range && values.size() > 1;
  s << (list ? "{" : "(");
  for (size_t i = 0; i < values.size(); ++i) s << (i ? "," : "") << values[i];
  s << (list ? "}" : ")");
  return s.str();
}

}  // namespace featvis::render::transform
