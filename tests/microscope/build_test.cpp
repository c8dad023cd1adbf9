// `featvis microscope build` through the real binary on a tiny synthetic model: the site
// layout, manifest, lenses present and absent, settings checks, dry run and errors.
#include "microscope/microscope_test_util.h"

#include <featvis/microscope/site_path.h>

#include <algorithm>
#include <cstdlib>

namespace {

using namespace featvis::testing;

// Tiny-model build arguments: `extra`, plus small defaults for the flags `extra` does not set.
std::vector<std::string> tiny_build(const TinyWorkspace& ws, const std::string& out, std::vector<std::string> extra) {
  std::vector<std::string> args{"microscope", "build", ws.model, "--out", out, "--threads", "1", "-q"};
  const std::vector<std::pair<std::string, std::string>> defaults{
      {"--layers", "conv1,block2"}, {"--units", "3"}, {"--steps", "4"},     {"--size", "16"},
      {"--batch", "2"},             {"--diversity", "2"}, {"--thumb", "8"}};
  for (const auto& [flag, value] : defaults) {
    if (std::find(extra.begin(), extra.end(), flag) == extra.end()) {
      args.push_back(flag);
      args.push_back(value);
    }
  }
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<std::string> plus_args(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(MicroscopeSite, SlugFollowsTheExamplesContract) {
  EXPECT_EQ(featvis::dataset_examples::layer_slug("MobileNetV2/expanded_conv_8/expand"), "MobileNetV2_expanded_conv_8_expand");
  EXPECT_EQ(featvis::dataset_examples::layer_slug("block 2:conv"), "block_2_conv");
  EXPECT_EQ(featvis::dataset_examples::layer_slug("a.b-c_d9"), "a.b-c_d9");
  EXPECT_EQ(featvis::dataset_examples::layer_slug(".."), "_..");
}

TEST(MicroscopeBuild, WritesEveryLensPagesAndManifest) {
  TinyWorkspace ws;
  const std::string site = ws.dir + "/site";
  const CommandResult r = run_featvis(tiny_build(ws, site, {"--examples", ws.examples, "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["units_rendered"], 6);
  EXPECT_EQ(summary["layers_rendered"], 2);

  const auto manifest = read_json(site + "/tiny/manifest.json");
  EXPECT_EQ(manifest["format"], "featvis-microscope/1");
  EXPECT_EQ(manifest["lenses"], nlohmann::json({"channel", "neuron", "diversity", "examples", "deepdream", "attribution", "accentuation"}));
  ASSERT_EQ(manifest["layers"].size(), 2u);
  EXPECT_EQ(manifest["layers"][1]["name"], "block2");
  EXPECT_EQ(manifest["layers"][0]["units"], nlohmann::json({0, 1, 2}));
  EXPECT_EQ(manifest["layers"][0]["channels"], 4);

  // Layer lenses: DeepDream from noise and the two caricatures from the index's photos.
  const auto& dd = manifest["layers"][0]["lenses"]["deepdream"];
  EXPECT_EQ(dd["caricatures"].size(), 2u);
  const at::Tensor dream = featvis::image::load_image_rgb8(site + "/tiny/conv1/" + dd["dream"]["image"].get<std::string>());
  EXPECT_EQ(dream.size(0), 16);
  const at::Tensor thumb = featvis::image::load_image_rgb8(site + "/tiny/conv1/" + dd["dream"]["thumb"].get<std::string>());
  EXPECT_EQ(thumb.size(0), 8);

  for (const std::string layer : {"conv1", "block2"}) {
    for (int u = 0; u < 3; ++u) {
      const std::string dir = site + "/tiny/" + layer + "/" + std::to_string(u);
      const auto unit = read_json(dir + "/unit.json");
      EXPECT_EQ(unit["unit"], u);
      const auto& lenses = unit["lenses"];
      for (const std::string lens : {"channel", "neuron"}) {
        const at::Tensor img = featvis::image::load_image_rgb8(dir + "/" + lenses[lens]["image"].get<std::string>());
        EXPECT_EQ(img.size(0), 16) << dir;
        EXPECT_TRUE(lenses[lens]["activation"].is_number());
      }
      EXPECT_EQ(lenses["diversity"]["images"].size(), 2u);
      // Only conv1 is in the examples index.
      EXPECT_EQ(lenses.contains("examples"), layer == "conv1") << dir;
      if (layer == "conv1") {
        ASSERT_EQ(lenses["examples"]["top_max"].size(), 2u);
        EXPECT_EQ(lenses["examples"]["top_max"][0]["image"], "cls/a.png");
        EXPECT_EQ(lenses["examples"]["top_max"][0]["score"], 2.0);
        EXPECT_EQ(featvis::image::load_image_rgb8(dir + "/examples/0.jpg").size(0), 6);
      }
      const std::string html = featvis::read_file(dir + "/index.html");
      EXPECT_NE(html.find("Feature visualization"), std::string::npos);
      // Attribution of the top photo where there are examples; a note where there are none.
      EXPECT_EQ(lenses.contains("attribution"), layer == "conv1") << dir;
      EXPECT_EQ(html.find("No attribution: it needs this unit") == std::string::npos,
                layer == "conv1")
          << dir;
    }
  }
  // Unit 1's page links its neighbours and the same unit in the next layer.
  const std::string page = featvis::read_file(site + "/tiny/conv1/1/index.html");
  EXPECT_NE(page.find("data-prev=\"../0/\""), std::string::npos);
  EXPECT_NE(page.find("data-next=\"../2/\""), std::string::npos);
  EXPECT_NE(page.find("data-next-layer=\"../../block2/1/\""), std::string::npos);
  EXPECT_TRUE(fs::is_regular_file(site + "/index.html"));
  EXPECT_TRUE(fs::is_regular_file(site + "/assets/app.js"));
  EXPECT_EQ(read_json(site + "/site.json")["models"][0]["path"], "tiny/");
  EXPECT_NE(featvis::read_file(site + "/tiny/layers.js").find("\"slug\":\"block2\""), std::string::npos);
  EXPECT_EQ(unreadable_file(site), "");
}

TEST(MicroscopeBuild, WithoutExamplesTheLensIsAbsentAndSaysSo) {
  TinyWorkspace ws;
  const std::string site = ws.dir + "/site";
  const CommandResult r = run_featvis(tiny_build(ws, site, {"--layers", "conv1", "--units", "1", "--diversity", "0"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("dataset-examples, attribution and accentuation lenses are absent"), std::string::npos) << r.err;
  const auto manifest = read_json(site + "/tiny/manifest.json");
  EXPECT_EQ(manifest["lenses"], nlohmann::json({"channel", "neuron", "deepdream"}));
  EXPECT_EQ(manifest["layers"][0]["lenses"]["deepdream"]["caricatures"].size(), 0u);
  const std::string html = featvis::read_file(site + "/tiny/conv1/0/index.html");
  EXPECT_NE(html.find("Dataset examples are not in this build"), std::string::npos);
  EXPECT_NE(html.find("Not in this build (--diversity 0)"), std::string::npos);
  EXPECT_FALSE(fs::exists(site + "/tiny/conv1/1"));
}

// --param: the render lenses use the parameterization asked for; it is a setting a
// resume must match, and MACO without a spectrum is a one-line error naming the command.
TEST(MicroscopeBuild, ParamChoosesTheRenderLensesParameterization) {
  TinyWorkspace ws;
  const std::string site = ws.dir + "/site";
  const CommandResult r =
      run_featvis(tiny_build(ws, site, {"--layers", "conv1", "--units", "1", "--diversity", "0", "--param", "cppn"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_json(site + "/tiny/build.json")["param"], "cppn");
  EXPECT_TRUE(fs::is_regular_file(site + "/tiny/conv1/0/unit.json"));
  expect_one_line_error(
      run_featvis(tiny_build(ws, site, {"--layers", "conv1", "--units", "1", "--diversity", "0", "--resume"})), 1,
      {"settings differ", "param"});
  expect_one_line_error(run_featvis(tiny_build(ws, ws.dir + "/maco", {"--layers", "conv1", "--units", "1", "--param", "maco"})),
                        1, {"featvis spectrum"});
}

// --images: the build scans the photos itself (into SITE/<model>/examples) and adds the
// dataset-examples and attribution lenses from that scan.
TEST(MicroscopeBuild, ImagesAreScannedIntoTheSiteAndTopPhotosAttributed) {
  TinyWorkspace ws;
  const std::string site = ws.dir + "/site";
  const CommandResult r = run_featvis(tiny_build(ws, site, {"--images", ws.photos, "--layers", "conv1", "--units", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto index = read_json(site + "/tiny/examples/index.json");
  EXPECT_EQ(index["images"], nlohmann::json({"cls/a.png", "cls/b.png"}));
  EXPECT_EQ(read_json(site + "/tiny/manifest.json")["lenses"],
            nlohmann::json({"channel", "neuron", "diversity", "examples", "deepdream", "attribution", "accentuation"}));
  for (int u = 0; u < 2; ++u) {
    const std::string dir = site + "/tiny/conv1/" + std::to_string(u);
    const auto lenses = read_json(dir + "/unit.json")["lenses"];
    ASSERT_TRUE(lenses.contains("examples")) << dir;
    EXPECT_EQ(lenses["examples"]["top_max"].size(), 2u);  // both photos, best first
    ASSERT_TRUE(lenses.contains("attribution")) << dir;
    // The attributed photo is the unit's top photo by channel mean.
    EXPECT_EQ(lenses["attribution"]["photo"], lenses["examples"]["top_mean"][0]["image"]);
    const at::Tensor attribution = featvis::image::load_image_rgb8(dir + "/attribution.webp");
    EXPECT_EQ(attribution.size(1), 8);  // the card's 8x8 view ...
    EXPECT_GT(attribution.size(0), 8);  // ... above its colour bar
    // Accentuation starts from the same photo and stays near it.
    ASSERT_TRUE(lenses.contains("accentuation")) << dir;
    EXPECT_EQ(lenses["accentuation"]["photo"], lenses["attribution"]["photo"]);
    EXPECT_LT(lenses["accentuation"]["distance"].get<double>(), 0.5);
    EXPECT_EQ(featvis::image::load_image_rgb8(dir + "/" + lenses["accentuation"]["image"].get<std::string>()).sizes(),
              featvis::image::load_image_rgb8(dir + "/" + lenses["channel"]["image"].get<std::string>()).sizes());
    EXPECT_NE(featvis::read_file(dir + "/index.html").find("Feature accentuation"), std::string::npos);
  }
  EXPECT_EQ(unreadable_file(site), "");
}

TEST(MicroscopeBuild, RefusesToOverwriteAndChecksSettingsOnResume) {
  TinyWorkspace ws;
  const std::string site = ws.dir + "/site";
  ASSERT_EQ(run_featvis(tiny_build(ws, site, {"--units", "1"})).exit_code, 0);
  expect_one_line_error(run_featvis(tiny_build(ws, site, {"--units", "1"})), 1, {"already holds", "--resume"});
  expect_one_line_error(run_featvis(tiny_build(ws, site, {"--units", "1", "--steps", "5", "--resume"})), 1,
                        {"settings differ", "steps 5 now, 4 before"});
  const CommandResult again = run_featvis(tiny_build(ws, site, {"--units", "1", "--resume", "--json"}));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out)["units_rendered"], 0);
  EXPECT_EQ(nlohmann::json::parse(again.out)["units_skipped"], 2);
}

// A card layer with a visualization tensor ("visualize"): every lens optimizes and ranks
// that tensor, the pages say so, and a site built with other tensors is not resumed.
TEST(MicroscopeBuild, OptimizesTheCardsVisualizationTensorAndResumeRefusesOtherTensors) {
  TinyWorkspace ws;
  const std::string old_site = ws.dir + "/old";
  ASSERT_EQ(run_featvis(tiny_build(ws, old_site, {"--layers", "conv1", "--units", "1"})).exit_code, 0);
  featvis::testing::write_bytes(ws.card, featvis::testing::tiny_classifier_card("conv1/preact"));
  expect_one_line_error(run_featvis(tiny_build(ws, old_site, {"--layers", "conv1", "--units", "1", "--resume"})), 1,
                        {"--resume", "optimized layer 'conv1' as 'conv1'", "this one optimizes 'conv1/preact'"});

  const std::string site = ws.dir + "/site";
  const CommandResult r = run_featvis(tiny_build(ws, site, {"--images", ws.photos, "--layers", "conv1", "--units", "1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_json(site + "/tiny/build.json")["visualized"], nlohmann::json({{"conv1", "conv1/preact"}}));
  EXPECT_EQ(read_json(site + "/tiny/examples/index.json")["layers"][0]["name"], "conv1/preact");  // ranked by it
  const auto layer = read_json(site + "/tiny/manifest.json")["layers"][0];
  EXPECT_EQ(layer["name"], "conv1");
  EXPECT_EQ(layer["tensor"], "conv1/preact");
  EXPECT_EQ(layer["lenses"]["deepdream"]["tensor"], "conv1/preact");
  const auto lenses = read_json(site + "/tiny/conv1/0/unit.json")["lenses"];
  for (const char* lens : {"channel", "neuron", "diversity", "examples"}) EXPECT_EQ(lenses[lens]["tensor"], "conv1/preact") << lens;
  EXPECT_EQ(lenses["attribution"]["layer"], "conv1/preact");
  EXPECT_NE(featvis::read_file(site + "/tiny/conv1/index.html").find("optimized as <code>conv1/preact</code>"), std::string::npos);
  EXPECT_NE(featvis::read_file(site + "/tiny/conv1/0/index.html").find("mean of <code>conv1/preact</code>"), std::string::npos);

  // The same card and settings resume; an index scanned before the card named the tensor
  // still gives the layer's own ranking, and says which.
  const CommandResult again = run_featvis(tiny_build(ws, site, {"--images", ws.photos, "--layers", "conv1", "--units", "1", "--resume"}));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  const std::string older = ws.dir + "/older";
  ASSERT_EQ(run_featvis(tiny_build(ws, older, {"--examples", ws.examples, "--layers", "conv1", "--units", "1"})).exit_code, 0);
  EXPECT_EQ(read_json(older + "/tiny/conv1/0/unit.json")["lenses"]["examples"]["tensor"], "conv1");
}

TEST(MicroscopeBuild, BadInputGivesOneLineErrors) {
  TinyWorkspace ws;
  const std::string site = ws.dir + "/site";
  expect_one_line_error(run_featvis(tiny_build(ws, site, {"--layers", "conv2"})), 1,
                        {"unknown layer 'conv2'", "conv1"});
  expect_one_line_error(run_featvis(tiny_build(ws, site, {"--images", ws.photos, "--examples", ws.examples})), 1,
                        {"--images", "not both"});
  expect_one_line_error(run_featvis(tiny_build(ws, site, {"--units", "x"})), 1, {"--units: units per layer 'x'"});
  expect_one_line_error(run_featvis(tiny_build(ws, site, {"--examples", ws.dir})), 1, {"--examples: dataset examples", "have no index.json"});
  fs::create_directories(ws.dir + "/bad");
  featvis::testing::write_bytes(ws.dir + "/bad/index.json", R"({"format": "featvis-examples/1", "model": "other",
      "images_root": "/nowhere", "images": [], "top_k": 1, "input_size": [8, 8], "layers": []})");
  expect_one_line_error(run_featvis(tiny_build(ws, site, {"--examples", ws.dir + "/bad"})), 1,
                        {"scanned on model 'other'"});
  EXPECT_EQ(run_featvis(tiny_build(ws, site, {"--diversity", "9"})).exit_code, 2);
  EXPECT_FALSE(fs::exists(site + "/tiny/manifest.json"));
}

TEST(MicroscopeBuild, DryRunCountsAndEstimatesWithoutWriting) {
  TinyWorkspace ws;
  const std::string site = ws.dir + "/site";
  const CommandResult r = run_featvis(tiny_build(ws, site, {"--dry-run", "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["units"], 6);
  EXPECT_EQ(j["units_left"], 6);
  EXPECT_EQ(j["layers"], 2);
  // 6 units x (channel 4 + neuron 4 + diversity 2x4) + 2 layers x deepdream 4 steps.
  EXPECT_EQ(j["image_steps"], 6 * 16 + 2 * 4);
  EXPECT_GT(j["ms_per_image_step"].get<double>(), 0);
  EXPECT_GT(j["estimated_seconds"].get<double>(), 0);
  EXPECT_FALSE(fs::exists(site + "/tiny"));
  const CommandResult table = run_featvis(tiny_build(ws, site, {"--dry-run"}));
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("dry run: 6 units in 2 layers"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("estimate:"), std::string::npos) << table.out;
}

// --dry-run of a shard estimates that shard's share, the same split the build uses: the
// shards' shares add up to the whole build, the engine's variables give the same share as
// --shard, and once a shard has built, its dry run has nothing left.
TEST(MicroscopeBuild, DryRunOfAShardEstimatesItsShare) {
  TinyWorkspace ws;
  const std::string site = ws.dir + "/site";
  const auto dry = [&](std::vector<std::string> extra) {
    extra.push_back("--dry-run");
    extra.push_back("--json");
    const CommandResult r = run_featvis(tiny_build(ws, site, extra));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  };
  const auto whole = dry({});
  EXPECT_TRUE(whole["shard"].is_null());
  EXPECT_EQ(whole["units"], 6);
  EXPECT_EQ(whole["build_units"], 6);
  // 3 shards of 6 work items (2 layers' own work, 4 batches of <= 2 units).
  int64_t units = 0, layers_left = 0;
  double steps = 0;
  std::vector<nlohmann::json> share;
  for (int k = 0; k < 3; ++k) {
    share.push_back(dry({"--shard", std::to_string(k) + "/3"}));
    const auto& j = share.back();
    EXPECT_EQ(j["shard"]["index"], k);
    EXPECT_EQ(j["shard"]["count"], 3);
    EXPECT_EQ(j["build_units"], 6);
    EXPECT_EQ(j["build_layers"], 2);
    EXPECT_LT(j["image_steps"].get<double>(), whole["image_steps"].get<double>()) << "shard " << k;
    units += j["units"].get<int64_t>();
    layers_left += j["layers_left"].get<int64_t>();
    steps += j["image_steps"].get<double>();
  }
  EXPECT_EQ(units, 6);
  EXPECT_EQ(layers_left, 2);
  EXPECT_EQ(steps, whole["image_steps"].get<double>());  // counts of whole steps: exact

  // A SLURM array task 1 of 3 is shard 1/3.
  setenv("SLURM_ARRAY_TASK_ID", "1", 1);
  setenv("SLURM_ARRAY_TASK_COUNT", "3", 1);
  setenv("SLURM_ARRAY_TASK_MIN", "0", 1);
  const auto slurm = dry({});
  unsetenv("SLURM_ARRAY_TASK_ID");
  unsetenv("SLURM_ARRAY_TASK_COUNT");
  unsetenv("SLURM_ARRAY_TASK_MIN");
  EXPECT_EQ(slurm["shard"]["source"], "SLURM_ARRAY_TASK_ID");
  EXPECT_EQ(slurm["units"], share[1]["units"]);
  EXPECT_EQ(slurm["image_steps"], share[1]["image_steps"]);

  const CommandResult table = run_featvis(tiny_build(ws, site, {"--shard", "2/3", "--dry-run"}));
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("dry run of shard 2/3 (from --shard): its share is " + share[2]["units"].dump() +
                           " of the build's 6 units"),
            std::string::npos)
      << table.out;

  // Shard 0 built: its dry run has nothing left, the whole build's has the rest.
  ASSERT_EQ(run_featvis(tiny_build(ws, site, {"--shard", "0/3"})).exit_code, 0);
  const auto after = dry({"--shard", "0/3"});
  EXPECT_EQ(after["units_left"], 0);
  EXPECT_EQ(after["image_steps"], 0);
  EXPECT_EQ(dry({})["units_left"], 6 - share[0]["units"].get<int64_t>());
}

// --lenses builds only the named lenses; the selection is a setting (build.json), so a
// resume, a shard or finalize with another selection is refused, and N shards of a
// selection plus finalize equal one process.
TEST(MicroscopeBuild, LensesSelectWhatIsBuiltAndAreASetting) {
  TinyWorkspace ws;
  const std::string site = ws.dir + "/site";
  const std::vector<std::string> chosen{"--examples", ws.examples, "--lenses", "examples,channel"};
  const CommandResult r = run_featvis(tiny_build(ws, site, chosen));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto manifest = read_json(site + "/tiny/manifest.json");
  EXPECT_EQ(manifest["lenses"], nlohmann::json({"channel", "examples"}));  // build order
  EXPECT_EQ(read_json(site + "/tiny/build.json")["selected_lenses"], nlohmann::json({"channel", "examples"}));
  EXPECT_TRUE(manifest["layers"][0]["lenses"].empty());  // no DeepDream
  for (int u = 0; u < 3; ++u) {
    const std::string dir = site + "/tiny/conv1/" + std::to_string(u);
    const auto lenses = read_json(dir + "/unit.json")["lenses"];
    std::vector<std::string> keys;
    for (const auto& [k, v] : lenses.items()) keys.push_back(k);
    EXPECT_EQ(keys, std::vector<std::string>({"channel", "examples"})) << dir;
    EXPECT_FALSE(fs::exists(dir + "/neuron.webp"));
    const std::string html = featvis::read_file(dir + "/index.html");
    EXPECT_NE(html.find("Feature visualization"), std::string::npos);
    EXPECT_EQ(html.find("Neuron (centre position)"), std::string::npos);
    EXPECT_EQ(html.find("Diversity"), std::string::npos);
  }
  EXPECT_EQ(featvis::read_file(site + "/tiny/conv1/index.html").find("DeepDream"), std::string::npos);
  EXPECT_EQ(unreadable_file(site), "");

  // Another selection, or none, does not resume it; the error names both.
  expect_one_line_error(run_featvis(tiny_build(ws, site, {"--examples", ws.examples, "--lenses", "channel", "--resume"})), 1,
                        {"--lenses:", "has lenses channel,examples (selected with --lenses)", "this one channel (selected"});
  expect_one_line_error(run_featvis(tiny_build(ws, site, {"--examples", ws.examples, "--resume"})), 1,
                        {"--lenses:", "(no --lenses)"});
  expect_one_line_error(run_featvis(tiny_build(ws, site, {"--examples", ws.examples, "--lenses", "channel", "--shard", "1/2"})),
                        1, {"--lenses:", "this one channel"});
  const CommandResult same = run_featvis(tiny_build(ws, site, plus_args(chosen, {"--resume", "--json"})));
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(nlohmann::json::parse(same.out)["units_rendered"], 0);

  // Unknown names and lenses these inputs cannot build: one line, the known names listed.
  expect_one_line_error(run_featvis(tiny_build(ws, ws.dir + "/x", {"--lenses", "channel,dreams"})), 1,
                        {"--lenses: unknown lens 'dreams'",
                         "(known: channel, neuron, diversity, examples, deepdream, attribution, accentuation, training)"});
  expect_one_line_error(run_featvis(tiny_build(ws, ws.dir + "/x", {"--lenses", "channel,examples"})), 1,
                        {"--lenses: lens 'examples' cannot be built here", "--images or --examples"});
  expect_one_line_error(run_featvis(tiny_build(ws, ws.dir + "/x", {"--lenses", "diversity", "--diversity", "0"})), 1,
                        {"lens 'diversity'", "--diversity is 0"});
  EXPECT_FALSE(fs::exists(ws.dir + "/x/tiny/build.json"));

  // Two shards with the selection, then finalize (which reads it back from build.json).
  const std::string sharded = ws.dir + "/sharded";
  for (const char* k : {"0/2", "1/2"})
    ASSERT_EQ(run_featvis(tiny_build(ws, sharded, plus_args(chosen, {"--shard", k}))).exit_code, 0) << k;
  EXPECT_FALSE(fs::exists(sharded + "/tiny/manifest.json"));
  const CommandResult fin = run_featvis({"microscope", "finalize", sharded, "--model", ws.model, "--shards", "2"});
  ASSERT_EQ(fin.exit_code, 0) << fin.err << fin.out;
  EXPECT_EQ(tree_difference(site, sharded), "");
}

}  // namespace
