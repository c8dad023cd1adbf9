#pragma once
// Each subcommand lives in its own cmd_<name>.cpp and adds itself to the app here.
// A command's callback throws featvis::Error for user mistakes; main() turns that into
// one line on stderr and exit code 1.
#include <CLI/CLI.hpp>

namespace featvis::cli {

void add_models_command(CLI::App& app);
void add_fetch_command(CLI::App& app);
void add_layers_command(CLI::App& app);
void add_classify_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_activations_command(CLI::App& app);
void add_render_command(CLI::App& app);
void add_objectives_command(CLI::App& app);
void add_attribute_command(CLI::App& app);
void add_microscope_command(CLI::App& app);
void add_examples_command(CLI::App& app);
void add_spectrum_command(CLI::App& app);
void add_train_fashion_mnist_command(CLI::App& app);
void add_timeline_command(CLI::App& app);
void add_probe_command(CLI::App& app);

}  // namespace featvis::cli
