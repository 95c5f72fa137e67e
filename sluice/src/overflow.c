/* overflow.c: names the job whose stack overflowed, when the stack is a
 * continuation's (cont.c). Those stacks have a guard page below them; a
 * job that runs into it faults there, and the SIGSEGV handler installed
 * here (once, by the first worker of a pool with continuations) writes
 * which stage, worker and pool it was, then lets the signal kill the
 * process as it would have. Any other SIGSEGV goes to the handler that was
 * installed before ours. The handler runs on an alternate signal stack of
 * the worker's own, since its normal stack is the one that is full. */
#include "cont.h"

#include "fiber.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ALT_STACK_BYTES ((size_t)64 << 10)

static struct sigaction previous;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

/* Async-signal-safe: formats with snprintf into a local buffer (glibc's
 * does not allocate for these formats) and writes with write(2). */
static void report(sl__worker *w) {
  sl__thread *t = w->self;
  char name[32];
  sl__thread_name(t, name, sizeof name);
  char msg[256];
  int n = snprintf(msg, sizeof msg,
                   "sluice: stack overflow in %s%s%s, a job on worker %u of pool \"%s\" "
                   "(its stack is %zu KiB: raise sl_pool_config.stack_size)\n",
                   name[0] ? "stage \"" : "an unnamed stage", name, name[0] ? "\"" : "",
                   w->index, w->pool->name, w->pool->stack_size >> 10);
  if (n > 0)
    (void)!write(STDERR_FILENO, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

static void on_segv(int sig, siginfo_t *info, void *uctx) {
  sl__worker *w = sl__tls_self.worker;
  const sl__fiber *f = w ? sl__cont_running_fiber(w) : NULL;
  if (f && sl__fiber_in_guard(f, info->si_addr)) {
    report(w);
    signal(SIGSEGV, SIG_DFL); /* returning re-runs the access: the default action */
    return;
  }
  if (previous.sa_flags & SA_SIGINFO) {
    previous.sa_sigaction(sig, info, uctx);
  } else if (previous.sa_handler == SIG_DFL || previous.sa_handler == SIG_IGN) {
    signal(SIGSEGV, SIG_DFL);
  } else {
    previous.sa_handler(sig);
  }
}

static void install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &previous);
}

void sl__overflow_watch(sl__altstack *a) {
  pthread_once(&install_once, install);
  a->mem = mmap(NULL, ALT_STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a->mem == MAP_FAILED) {
    a->mem = NULL;
    return;
  }
  stack_t ss = {.ss_sp = a->mem, .ss_size = ALT_STACK_BYTES, .ss_flags = 0};
  if (sigaltstack(&ss, &a->old)) {
    munmap(a->mem, ALT_STACK_BYTES);
    a->mem = NULL;
  }
}

void sl__overflow_unwatch(sl__altstack *a) {
  if (!a->mem)
    return;
  sigaltstack(&a->old, NULL);
  munmap(a->mem, ALT_STACK_BYTES);
  a->mem = NULL;
}
