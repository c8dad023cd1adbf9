#pragma once
// One long-lived thread that runs the jobs handed to it, in order. For work handed off batch
// after batch (the examples scan decodes the next photos while the network runs): a fresh
// thread per batch, as std::async makes, has LibTorch re-create its thread pool on that
// thread's first parallel op (at::set_num_threads re-creates pthreadpool's workers, which
// spin for about 20 ms), a few percent of the scan's CPU.
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

namespace featvis {

class BackgroundThread {
 public:
  BackgroundThread();
  ~BackgroundThread();  // runs the jobs still queued, then joins
  BackgroundThread(const BackgroundThread&) = delete;
  BackgroundThread& operator=(const BackgroundThread&) = delete;

  // The job's result (or its exception) through the future.
  template <typename Job>
  auto submit(Job job) -> std::future<decltype(job())> {
    auto task = std::make_shared<std::packaged_task<decltype(job())()>>(std::move(job));
    auto result = task->get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.push_back([task] { (*task)(); });
    }
    wake_.notify_one();
    return result;
  }

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace featvis
