// The scan's decode thread: jobs run in order on one thread that lives as long as the
// object, a job's exception reaches its future, and jobs still queued at destruction run.
#include <featvis/util/background_thread.h>

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

TEST(BackgroundThread, RunsJobsInOrderOnOneThreadOtherThanTheCaller) {
  featvis::BackgroundThread worker;
  std::vector<int> order;  // written by the worker only
  std::vector<std::future<std::thread::id>> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(worker.submit([&order, i] {
      order.push_back(i);
      return std::this_thread::get_id();
    }));
  const std::thread::id first = ids[0].get();
  EXPECT_NE(first, std::this_thread::get_id());
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_EQ(ids[i].get(), first) << "job " << i;
  ASSERT_EQ(order.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(order[i], i);
}

TEST(BackgroundThread, AJobsExceptionReachesItsFutureAndTheThreadGoesOn) {
  featvis::BackgroundThread worker;
  auto failing = worker.submit([]() -> int { throw std::runtime_error("unreadable photo"); });
  auto next = worker.submit([] { return 7; });
  EXPECT_THROW(failing.get(), std::runtime_error);
  EXPECT_EQ(next.get(), 7);
}

TEST(BackgroundThread, QueuedJobsRunBeforeDestruction) {
  std::atomic<int> done{0};
  {
    featvis::BackgroundThread worker;
    for (int i = 0; i < 50; ++i) worker.submit([&done] { ++done; });  // futures dropped
  }
  EXPECT_EQ(done.load(), 50);
}

}  // namespace
