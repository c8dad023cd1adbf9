#include <featvis/render/transform/crop.h>
#include <featvis/render/transform/jitter.h>
#include <featvis/render/transform/pad.h>
#include <featvis/render/transform/rotate.h>
#include <featvis/render/transform/scale.h>
#include <featvis/render/transform/standard.h>
#include <featvis/util/error.h>

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace featvis::render::transform {
namespace {

[[noreturn]] void fail(const std::string& text, const std::string& why) {
  throw SettingError("transforms", "transforms '" + text + "': " + why +
              " (use standard, none, or a list like pad(12),jitter(8),scale(0.9,1.1),rotate(-10,10),jitter(4),crop(0.3,0.6,224))");
}

struct Item {
  std::string name;
  bool braces = false;  // {a,b,c}: one of a list
  std::vector<std::string> args;
};

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::vector<Item> split_items(const std::string& text) {
  std::vector<Item> items;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (std::isspace(static_cast<unsigned char>(text[i])) || text[i] == ',')) ++i;
    if (i == text.size()) break;
    Item item;
    while (i < text.size() && (std::isalpha(static_cast<unsigned char>(text[i])) || text[i] == '_'))
      item.name += text[i++];
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (item.name.empty() || i == text.size() || (text[i] != '(' && text[i] != '{')) {
      fail(text, "expected NAME(ARGS) at position " + std::to_string(i + 1));
    }
    item.braces = text[i] == '{';
    const char close = item.braces ? '}' : ')';
    const size_t end = text.find(close, i);
    if (end == std::string::npos) fail(text, std::string("missing '") + close + "' after " + item.name);
    std::string inner = text.substr(i + 1, end - i - 1);
    size_t start = 0;
    while (true) {
      const size_t comma = inner.find(',', start);
      item.args.push_back(trim(inner.substr(start, comma - start)));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    items.push_back(item);
    i = end + 1;
  }
  return items;
}

double number(const std::string& text, const Item& item, const std::string& arg) {
  char* end = nullptr;
  const double v = std::strtod(arg.c_str(), &end);
  if (arg.empty() || *end != '\0' || !std::isfinite(v)) fail(text, item.name + ": '" + arg + "' is not a number");
  return v;
}

int64_t whole(const std::string& text, const Item& item, const std::string& arg) {
  const double v = number(text, item, arg);
  if (v != std::floor(v) || v < 0 || v > 4096) fail(text, item.name + ": '" + arg + "' is not a pixel count");
  return static_cast<int64_t>(v);
}

RandomChoice choice(const std::string& text, const Item& item) {
  std::vector<double> values;
  for (const auto& a : item.args) values.push_back(number(text, item, a));
  if (item.braces) return RandomChoice::one_of(values);
  if (values.size() == 1) return RandomChoice::one_of(values);
  if (values.size() != 2) fail(text, item.name + " takes (VALUE), (LOW,HIGH) or {V1,V2,...}");
  if (values[0] > values[1]) fail(text, item.name + ": low end above high end");
  return RandomChoice::uniform(values[0], values[1]);
}

Transform make(const std::string& text, const Item& item) {
  const size_t n = item.args.size();
  if (item.name == "pad") {
    if (item.braces || n < 1 || n > 2) fail(text, "pad takes (WIDTH) or (WIDTH,reflect) or (WIDTH,VALUE)");
    PadOptions options;
    if (n == 2) {
      if (item.args[1] == "reflect") {
        options.mode = PadMode::kReflect;
      } else if (item.args[1] != "constant") {
        options.value = number(text, item, item.args[1]);
      }
    }
    return pad(whole(text, item, item.args[0]), options);
  }
  if (item.name == "jitter") {
    if (item.braces || n != 1) fail(text, "jitter takes (PIXELS)");
    return jitter(whole(text, item, item.args[0]));
  }
  if (item.name == "scale") {
    const RandomChoice c = choice(text, item);
    for (double s : c.values)
      if (s <= 0) fail(text, "scale factors must be positive");
    return random_scale(c);
  }
  if (item.name == "rotate") return random_rotate(choice(text, item));
  if (item.name == "crop") {
    if (item.braces || n < 2 || n > 3) fail(text, "crop takes (FRACTION,SIZE) or (LOW,HIGH,SIZE)");
    std::vector<double> f;
    for (size_t i = 0; i + 1 < n; ++i) f.push_back(number(text, item, item.args[i]));
    for (double v : f)
      if (!(v > 0 && v <= 1)) fail(text, "crop fractions must be in (0, 1]");
    if (n == 3 && f[0] > f[1]) fail(text, "crop: low end above high end");
    const int64_t size = whole(text, item, item.args[n - 1]);
    if (size < 1) fail(text, "crop size must be at least 1 pixel");
    return random_crop(n == 3 ? RandomChoice::uniform(f[0], f[1]) : RandomChoice::one_of(f), size);
  }
  fail(text, "unknown transform '" + item.name + "' (known: pad, jitter, scale, rotate, crop)");
}

}  // namespace

Transform standard() {
  std::vector<double> scales;
  for (int i = 0; i < 11; ++i) scales.push_back(1.0 + (i - 5) / 50.0);
  std::vector<double> angles;
  for (int a = -10; a <= 10; ++a) angles.push_back(a);
  for (int i = 0; i < 5; ++i) angles.push_back(0.0);
  return compose({pad(12), jitter(8), random_scale(RandomChoice::one_of(scales)),
                  random_rotate(RandomChoice::one_of(angles)), jitter(4)});
}

std::vector<Transform> parse_steps(const std::string& raw) {
  const std::string text = trim(raw);
  if (text == "standard") return parse_steps(standard().description());
  if (text == "none") return {};
  if (text.empty()) fail(text, "empty");
  std::vector<Transform> list;
  for (const auto& item : split_items(text)) list.push_back(make(text, item));
  return list;
}

Transform parse(const std::string& text) {
  if (trim(text) == "standard") return standard();
  return compose(parse_steps(text));
}

}  // namespace featvis::render::transform
