#include <featvis/render/param/cppn.h>
#include <featvis/render/param/image_param.h>
#include <featvis/render/param/maco.h>
#include <featvis/render/param/spectral.h>
#include <featvis/util/check.h>
#include <featvis/util/error.h>

#include <sstream>

namespace featvis::render::param {

std::string to_string(Space space) {
  switch (space) {
    case Space::kFFT:
      return "fft";
    case Space::kCPPN:
      return "cppn";
    case Space::kMACO:
      return "maco";
    case Space::kPixel:
      break;
  }
  return "pixel";
}

Space parse_space(const std::string& text) {
  for (Space space : {Space::kFFT, Space::kPixel, Space::kCPPN, Space::kMACO})
    if (text == to_string(space)) return space;
  throw SettingError("param", "unknown parameterization '" + text + "' (use fft, pixel, cppn or maco)");
}

ImageParam::ImageParam(ImageParamOptions options, at::Generator generator) : options_(std::move(options)) {
  const auto& o = options_;
  if (o.batch < 1) throw Error("batch size must be at least 1, got " + std::to_string(o.batch));
  if (o.height < 1 || o.width < 1) {
    throw Error("image size must be positive, got " + std::to_string(o.height) + "x" + std::to_string(o.width));
  }
  if (!(o.sd >= 0)) throw Error("initial standard deviation must be >= 0");
  const at::TensorOptions cpu = at::TensorOptions().dtype(o.tensor_options.dtype());
  const at::TensorOptions device = cpu.device(o.tensor_options.device());
  if (o.space == Space::kFFT) {
    scale_ = spectrum_scale(o.height, o.width, o.decay_power, device);
    gain_ = spectrum_gain(scale_);
  }

  if (o.space == Space::kCPPN) {
    FEATVIS_CHECK_SETTING(!o.init_image.defined(), "param",
                          "a CPPN cannot start from an image (use fft or pixel for DeepDream and caricatures)");
    parameters_ = cppn_parameters(o.batch, CppnShape{}, generator, device);
    coordinates_ = cppn_coordinates(o.height, o.width, device);
    return;
  }
  if (o.space == Space::kMACO) {
    FEATVIS_CHECK_SETTING(!o.init_image.defined(), "param",
                          "MACO cannot start from an image (its magnitude is fixed; use fft or pixel)");
    FEATVIS_CHECK_SETTING(o.magnitude.defined(), "param",
                          "MACO needs a natural-image spectrum (`featvis spectrum MODEL --images DIR`)");
    magnitude_ = magnitude_for(o.magnitude, o.height, o.width).to(device);
    // The phase, random as in MACO (its scale is standardized away at every step).
    at::Tensor phase = at::normal(0.0, 1.0, {o.batch, 3, o.height, o.width / 2 + 1}, generator, cpu).to(device);
    parameters_.push_back(phase.set_requires_grad(true));
    return;
  }
  at::Tensor values;
  if (o.init_image.defined()) {
    at::Tensor init = o.init_image.detach().to(device);
    if (init.dim() == 3) init = init.unsqueeze(0);
    if (init.dim() != 4 || init.size(1) != 3 || init.size(2) != o.height || init.size(3) != o.width ||
        (init.size(0) != 1 && init.size(0) != o.batch)) {
      std::ostringstream msg;
      msg << "start image has shape " << o.init_image.sizes() << ", expected [3," << o.height << "," << o.width
          << "] or [" << o.batch << ",3," << o.height << "," << o.width << "]";
      throw Error(msg.str());
    }
    at::Tensor raw = from_valid_rgb(init.expand({o.batch, 3, o.height, o.width}), o.decorrelate, o.squash);
    values = o.space == Space::kFFT ? image_to_spectrum(raw, scale_) : raw;
  } else {
    std::vector<int64_t> shape{o.batch, 3, o.height, o.width};
    if (o.space == Space::kFFT) shape = {o.batch, 3, o.height, o.width / 2 + 1, 2};
    values = at::normal(0.0, o.sd, shape, generator, cpu).to(device);
  }
  parameters_.push_back(values.contiguous().clone().set_requires_grad(true));
}

at::Tensor ImageParam::raw() const {
  if (options_.space == Space::kCPPN) {
    return cppn_logits(parameters_, coordinates_, options_.batch, options_.height, options_.width);
  }
  const at::Tensor& p = parameters_.front();
  if (options_.space == Space::kMACO) return maco_image(p, magnitude_, options_.height, options_.width);
  return options_.space == Space::kFFT ? gained_spectrum_to_image(p, gain_, options_.height, options_.width) : p;
}

at::Tensor ImageParam::image() const {
  if (options_.space == Space::kCPPN) return at::sigmoid(raw());  // its own RGB, as in Lucid
  return to_valid_rgb(raw(), options_.decorrelate, options_.squash);
}

std::string ImageParam::description() const {
  std::ostringstream s;
  if (options_.space == Space::kCPPN) {
    const CppnShape shape;
    s << "cppn(" << shape.hidden_layers << " layers of " << shape.hidden_units << ") + sigmoid, " << options_.batch
      << " x 3 x " << options_.height << " x " << options_.width;
    return s.str();
  }
  if (options_.space == Space::kMACO) {
    s << "maco(phase only, natural-image magnitude)";
  } else if (options_.space == Space::kFFT) {
    s << "fft(decay " << options_.decay_power << ")";
  } else {
    s << "pixel";
  }
  s << (options_.decorrelate ? " + decorrelated colour" : " + plain RGB") << " + " << to_string(options_.squash) << ", "
    << options_.batch << " x 3 x " << options_.height << " x " << options_.width;
  if (options_.init_image.defined()) s << ", from an image";
  return s.str();
}

}  // namespace featvis::render::param
