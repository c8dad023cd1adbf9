// `featvis objectives` lists the kind table; `featvis render --help` reads it too.
#include "support/test_support.h"

#include <featvis/objective/kind_table.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace featvis {
namespace {

using testing::run_featvis;

TEST(ObjectivesCli, TableListsEveryKind) {
  const auto r = run_featvis({"objectives"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const objective::Kind& k : objective::kinds()) {
    EXPECT_NE(r.out.find(k.signature()), std::string::npos) << k.name << "\n" << r.out;
    EXPECT_NE(r.out.find(k.summary), std::string::npos) << k.name;
  }
  EXPECT_NE(r.out.find("tv"), std::string::npos);
  EXPECT_NE(r.out.find("blur"), std::string::npos);
}

TEST(ObjectivesCli, Json) {
  const auto r = run_featvis({"objectives", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), objective::kinds().size());
  EXPECT_EQ(j.at(0).at("name"), objective::kinds()[0].name);
  for (const auto& k : j) {
    EXPECT_FALSE(k.at("signature").get<std::string>().empty());
    EXPECT_FALSE(k.at("summary").get<std::string>().empty());
    EXPECT_TRUE(k.contains("help"));
  }
  EXPECT_EQ(j.at(j.size() - 1).at("signature"), "blur");
}

TEST(ObjectivesCli, RenderHelpNamesEveryKind) {
  const auto r = run_featvis({"render", "--help"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const objective::Kind& k : objective::kinds()) EXPECT_NE(r.out.find(k.signature()), std::string::npos) << k.name;
  EXPECT_NE(r.out.find("featvis objectives"), std::string::npos);
}

}  // namespace
}  // namespace featvis
