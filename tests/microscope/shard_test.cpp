// Sharding a Microscope build: K/N from the flag and from the engines' variables (SLURM
// arrays, Kubernetes Indexed Jobs, mpirun), and the cost-balanced split of render batches.
#include "microscope/microscope_test_util.h"

#include <featvis/inference/layer_info.h>
#include <featvis/microscope/shard.h>
#include <featvis/microscope/work_plan.h>
#include <featvis/model/model.h>
#include <featvis/util/error.h>

#include <map>
#include <random>

namespace {

using namespace featvis::microscope;
using featvis::testing::error_of;

// An environment given as a map, so no test changes the process's variables.
Getenv env(std::map<std::string, std::string> vars) {
  auto held = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [held](const char* name) -> const char* {
    auto it = held->find(name);
    return it == held->end() ? nullptr : it->second.c_str();
  };
}

std::string shard_error(const std::string& flag, int64_t completions, std::map<std::string, std::string> vars) {
  return error_of([&] { resolve_shard(flag, completions, env(vars)); });
}

TEST(MicroscopeShard, ParsesTheFlag) {
  const Shard s = parse_shard("2/5");
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 5);
  EXPECT_TRUE(s.sharded());
  EXPECT_FALSE(parse_shard("0/1").sharded());  // the whole build
  for (const char* bad : {"", "3", "1/", "/4", "a/4", "1/b", "-1/4", "1/4/2", "1 /4", "1.0/4"})
    EXPECT_NE(error_of([&] { parse_shard(bad); }).find("must be K/N"), std::string::npos) << bad;
  EXPECT_NE(error_of([] { parse_shard("4/4"); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([] { parse_shard("9/4"); }).find("K must be below N"), std::string::npos);
  EXPECT_NE(error_of([] { parse_shard("0/0"); }).find("at least 1"), std::string::npos);
}

TEST(MicroscopeShard, ReadsTheEnginesVariables) {
  EXPECT_FALSE(resolve_shard("", 0, env({})).sharded());
  // SLURM: the task's place in the array, whatever its first index and step.
  Shard s = resolve_shard("", 0, env({{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}));
  EXPECT_EQ(s.index, 3);
  EXPECT_EQ(s.count, 4);
  EXPECT_EQ(s.source, "SLURM_ARRAY_TASK_ID");
  s = resolve_shard("", 0, env({{"SLURM_ARRAY_TASK_ID", "12"}, {"SLURM_ARRAY_TASK_COUNT", "4"}, {"SLURM_ARRAY_TASK_MIN", "10"}}));
  EXPECT_EQ(s.index, 2);
  s = resolve_shard("", 0, env({{"SLURM_ARRAY_TASK_ID", "14"}, {"SLURM_ARRAY_TASK_COUNT", "3"},
                                {"SLURM_ARRAY_TASK_MIN", "10"}, {"SLURM_ARRAY_TASK_STEP", "2"}}));
  EXPECT_EQ(s.index, 2);
  EXPECT_EQ(s.count, 3);
  // With --shard-count the array index is the shard: `--array=1` alone reruns shard 1 of 4.
  s = resolve_shard("", 4, env({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "1"}, {"SLURM_ARRAY_TASK_MIN", "1"}}));
  EXPECT_EQ(s.index, 1);
  EXPECT_EQ(s.count, 4);
  // Kubernetes Indexed Job: the index from the pod, the count from the flag.
  s = resolve_shard("", 8, env({{"JOB_COMPLETION_INDEX", "5"}}));
  EXPECT_EQ(s.index, 5);
  EXPECT_EQ(s.count, 8);
  EXPECT_EQ(s.source, "JOB_COMPLETION_INDEX");
  // mpirun as a launcher.
  s = resolve_shard("", 0, env({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}}));
  EXPECT_EQ(s.index, 1);
  EXPECT_EQ(s.source, "OMPI_COMM_WORLD_RANK");
  // Agreeing sources are fine; the flag wins over the environment.
  s = resolve_shard("", 0, env({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "2"},
                                {"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}}));
  EXPECT_EQ(s.index, 1);
  s = resolve_shard("0/3", 0, env({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "2"}}));
  EXPECT_EQ(s.index, 0);
  EXPECT_EQ(s.count, 3);
  EXPECT_EQ(s.source, "--shard");
  // A one-task array is the whole build.
  EXPECT_FALSE(resolve_shard("", 0, env({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_COUNT", "1"}})).sharded());
}

TEST(MicroscopeShard, BadOrConflictingSourcesAreOneLineErrors) {
  EXPECT_NE(shard_error("", 0, {{"SLURM_ARRAY_TASK_ID", "x"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}).find("SLURM_ARRAY_TASK_ID='x' is not a whole number"),
            std::string::npos);
  EXPECT_NE(shard_error("", 0, {{"SLURM_ARRAY_TASK_ID", "1"}}).find("SLURM_ARRAY_TASK_COUNT is not"), std::string::npos);
  EXPECT_NE(shard_error("", 0, {{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}).find("out of range"),
            std::string::npos);
  EXPECT_NE(shard_error("", 0, {{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"}, {"SLURM_ARRAY_TASK_MIN", "2"}})
                .find("not in the array"),
            std::string::npos);
  EXPECT_NE(shard_error("", 0, {{"JOB_COMPLETION_INDEX", "2"}}).find("--shard-count N"), std::string::npos);
  EXPECT_NE(shard_error("", 4, {}).find("neither is set"), std::string::npos);
  EXPECT_NE(shard_error("", 4, {{"SLURM_ARRAY_TASK_ID", "4"}}).find("out of range"), std::string::npos);
  EXPECT_NE(shard_error("", 4, {{"JOB_COMPLETION_INDEX", "4"}}).find("out of range"), std::string::npos);
  EXPECT_NE(shard_error("1/2", 4, {{"JOB_COMPLETION_INDEX", "1"}}).find("not both"), std::string::npos);
  EXPECT_NE(shard_error("", 0, {{"OMPI_COMM_WORLD_RANK", "0"}}).find("OMPI_COMM_WORLD_SIZE=''"), std::string::npos);
  const std::string conflict = shard_error("", 0, {{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "4"},
                                                   {"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "2"}});
  EXPECT_NE(conflict.find("1/4 from SLURM_ARRAY_TASK_ID and 0/2 from OMPI_COMM_WORLD_RANK disagree"), std::string::npos)
      << conflict;
  for (const std::string& e : {conflict, shard_error("x", 0, {})}) EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

// Layers of the given unit counts (units 0..n-1).
std::vector<LayerPlan> layers_of(const std::vector<int64_t>& counts) {
  std::vector<LayerPlan> layers;
  for (size_t l = 0; l < counts.size(); ++l) {
    LayerPlan p;
    p.name = "layer" + std::to_string(l);
    for (int64_t u = 0; u < counts[l]; ++u) p.units.push_back(u);
    p.channels = counts[l];
    layers.push_back(p);
  }
  return layers;
}

TEST(MicroscopeShard, WorkItemsKeepRenderBatchesWhole) {
  const std::vector<WorkItem> items = plan_work(layers_of({5, 2}), 2, {1.0, 10.0}, 3, 4);
  ASSERT_EQ(items.size(), 6u);  // layer0, {0,1}, {2,3}, {4}, layer1, {0,1}
  EXPECT_TRUE(items[0].units.empty());
  EXPECT_EQ(items[0].cost, 3.0);
  EXPECT_EQ(items[1].units, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(items[1].cost, 8.0);  // 2 units x 4 steps x cost 1
  EXPECT_EQ(items[3].units, (std::vector<int64_t>{4}));
  EXPECT_EQ(items[4].layer, 1u);
  EXPECT_EQ(items[5].cost, 80.0);
}

// Every item to exactly one shard, and no shard above the mean plus the largest item.
void expect_fair_split(const std::vector<WorkItem>& items, int64_t n) {
  const std::vector<int64_t> owner = assign_shards(items, n);
  ASSERT_EQ(owner.size(), items.size());
  std::vector<double> load(static_cast<size_t>(n), 0.0);
  double total = 0, largest = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    ASSERT_GE(owner[i], 0);
    ASSERT_LT(owner[i], n);
    load[static_cast<size_t>(owner[i])] += items[i].cost;
    total += items[i].cost;
    largest = std::max(largest, items[i].cost);
  }
  for (double l : load) EXPECT_LE(l, total / static_cast<double>(n) + largest) << "n=" << n;
  EXPECT_EQ(assign_shards(items, n), owner);  // the same split every time it is computed
}

TEST(MicroscopeShard, SplitCoversEverythingOnceAndIsBalanced) {
  // MobileNetV2-like: deep layers cost more per step and have more units.
  std::vector<int64_t> counts;
  std::vector<double> cost;
  for (int l = 0; l < 17; ++l) {
    counts.push_back(16 + 60 * l);
    cost.push_back(1e6 * (1 + l * l));
  }
  const std::vector<WorkItem> items = plan_work(layers_of(counts), 16, cost, 3 * 256, 6 * 256);
  for (int64_t n : {1, 2, 3, 4, 7, 32, 100}) expect_fair_split(items, n);
  // Each unit in exactly one shard's items.
  const std::vector<int64_t> owner = assign_shards(items, 7);
  std::map<std::pair<size_t, int64_t>, int> seen;
  for (const auto& item : items)
    for (int64_t u : item.units) ++seen[{item.layer, u}];
  int64_t units = 0;
  for (int64_t c : counts) units += c;
  EXPECT_EQ(static_cast<int64_t>(seen.size()), units);
  for (const auto& [key, times] : seen) EXPECT_EQ(times, 1);
  // Close to perfect when the items are many and small: within 1% of the mean here.
  std::vector<double> load(7, 0.0);
  double total = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    load[static_cast<size_t>(owner[i])] += items[i].cost;
    total += items[i].cost;
  }
  for (double l : load) EXPECT_NEAR(l / (total / 7), 1.0, 0.01);
  // Random costs: the bound holds for any plan.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> c(1, 1000);
  std::vector<WorkItem> random(200);
  for (auto& item : random) item.cost = c(rng);
  for (int64_t n : {2, 5, 13, 199, 250}) expect_fair_split(random, n);
}

// Shards in another process order compute the same split: it reads nothing but the plan.
TEST(MicroscopeShard, SplitIsTheSameInAnotherProcess) {
  const std::vector<WorkItem> items = plan_work(layers_of({40, 8, 100}), 16, {5.0, 50.0, 20.0}, 768, 1536);
  const std::vector<int64_t> here = assign_shards(items, 4);
  std::string text;
  for (int64_t o : here) text += std::to_string(o);
  // Pinned: a change of the split would send a resumed shard other batches than its first run.
  EXPECT_EQ(text, "30001021231230");  // worked by hand: layer 1's batch first, ties to shard 0
}

TEST(MicroscopeShard, DeeperLayersCostMore) {
  featvis::testing::TinyWorkspace ws;
  const featvis::model::Model model = featvis::model::load_model(ws.card);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& l : featvis::inference::describe_layers(model)) shapes[l.name] = l.shape;
  const double conv1 = forward_cost(model.graph, shapes, "conv1");
  const double block2 = forward_cost(model.graph, shapes, "block2");
  EXPECT_GT(conv1, 0);
  EXPECT_GT(block2, conv1);
}

}  // namespace
