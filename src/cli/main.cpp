// featvis: see what the units of a trained vision network respond to.
#include "commands.h"
#include "leading_minus.h"

#include <featvis/util/configure_process.h>
#include <featvis/util/error.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace {

int run(int argc, char** argv) {
  CLI::App app{"featvis: feature visualization, dataset examples and attribution for ONNX vision models"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "featvis 0.1.0");
  featvis::cli::add_models_command(app);
  featvis::cli::add_fetch_command(app);
  featvis::cli::add_layers_command(app);
  featvis::cli::add_classify_command(app);
  featvis::cli::add_eval_command(app);
  featvis::cli::add_activations_command(app);
  featvis::cli::add_render_command(app);
  featvis::cli::add_objectives_command(app);
  featvis::cli::add_attribute_command(app);
  featvis::cli::add_microscope_command(app);
  featvis::cli::add_examples_command(app);
  featvis::cli::add_spectrum_command(app);
  featvis::cli::add_train_fashion_mnist_command(app);
  featvis::cli::add_timeline_command(app);
  featvis::cli::add_probe_command(app);
  std::string names;
  bool known = false;
  for (const CLI::App* sub : app.get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
    known = known || (argc > 1 && sub->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !known) {
    std::cerr << "featvis: error: unknown command '" << argv[1] << "' (commands: " << names << ")\n";
    return 2;
  }
  std::vector<std::string> args(argv, argv + argc);
  // A negated objective ("-LAYER:7") is the render command's positional, not an option.
  if (known && args[1] == "render") args = featvis::cli::with_dashed_positionals_last(*app.get_subcommand("render"), args);
  std::vector<const char*> arg_pointers;
  for (const auto& a : args) arg_pointers.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(arg_pointers.size()), arg_pointers.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "featvis: error: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const featvis::SettingError& e) {
    // The library names settings as it calls them (weight_decay); the user typed flags.
    std::string flag = e.setting();
    std::replace(flag.begin(), flag.end(), '_', '-');
    std::cerr << "featvis: error: --" << flag << ": " << e.what() << "\n";
    return 1;
  } catch (const featvis::Error& e) {
    std::cerr << "featvis: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::string msg = e.what();
    std::cerr << "featvis: error: " << msg.substr(0, msg.find('\n')) << "\n";
    return 1;
  }
  return 0;
}

// Sanitizer builds exit normally: their leak check runs from an atexit handler.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

}  // namespace

int main(int argc, char** argv) {
  featvis::configure_process();
  const int code = run(argc, argv);
  // Every file the command wrote is closed by now (they are written atomically, in the
  // command's scope). What is left at exit is LibTorch's static destructors, which take
  // its ~2,000 operators out of the dispatcher one by one: 40-60 ms of every command.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  if (!kSanitized) std::_Exit(code);
  return code;
}
