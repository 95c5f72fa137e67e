/* fiber.c: stacks and the switch between them (see fiber.h).
 *
 * THE SWITCH (x86-64, System V). sl__fiber_swap(&from->sp, to->sp) pushes
 * the callee-saved registers (rbp, rbx, r12-r15) and the SSE and x87
 * control words on the current stack, stores the stack pointer, loads the
 * other one and pops the same set: 64 bytes, a few nanoseconds. Everything
 * else is caller-saved, so the compiler has already spilled what it needs
 * around the call. A new stack is laid out as if it had been switched away
 * from just before the trampoline: popping it lands in sl__fiber_boot with
 * the entry function in r12 and its argument in r13, and a 16-byte aligned
 * stack pointer at the call, as the ABI wants. */
#include "fiber.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SL__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SL__ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define SL__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SL__TSAN 1
#endif
#endif

#ifdef SL__ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
#endif
#ifdef SL__TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

#if SL__FIBERS
SL_HIDDEN void sl__fiber_swap(void **save_sp, void *load_sp);
SL_HIDDEN void sl__fiber_boot(void);
__asm__(".text\n"
        ".globl sl__fiber_swap\n"
        ".hidden sl__fiber_swap\n"
        ".type sl__fiber_swap,@function\n"
        "sl__fiber_swap:\n"
        "  pushq %rbp\n"
        "  pushq %rbx\n"
        "  pushq %r12\n"
        "  pushq %r13\n"
        "  pushq %r14\n"
        "  pushq %r15\n"
        "  subq $8, %rsp\n"
        "  stmxcsr (%rsp)\n"
        "  fnstcw 4(%rsp)\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  ldmxcsr (%rsp)\n"
        "  fldcw 4(%rsp)\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n"
        "  popq %r14\n"
        "  popq %r13\n"
        "  popq %r12\n"
        "  popq %rbx\n"
        "  popq %rbp\n"
        "  ret\n"
        ".size sl__fiber_swap, .-sl__fiber_swap\n"
        ".globl sl__fiber_boot\n"
        ".hidden sl__fiber_boot\n"
        ".type sl__fiber_boot,@function\n"
        "sl__fiber_boot:\n"
        "  movq %r13, %rdi\n"
        "  callq *%r12\n"
        "  ud2\n"
        ".size sl__fiber_boot, .-sl__fiber_boot\n");
#endif

static size_t page_size(void) {
  long p = sysconf(_SC_PAGESIZE);
  return p > 0 ? (size_t)p : 4096;
}

int sl__fiber_create(sl__fiber *f, size_t size) {
  memset(f, 0, sizeof *f);
  size_t page = page_size();
  size = (size + page - 1) / page * page;
  size_t len = size + page;
  char *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
                   | MAP_STACK, -1, 0);
  if (map == MAP_FAILED)
    return SL_ENOMEM;
  if (mprotect(map, page, PROT_NONE)) {
    munmap(map, len);
    return SL_ENOMEM;
  }
  f->map = map;
  f->map_len = len;
  f->lo = map + page;
  f->len = size;
#ifdef SL__TSAN
  f->tsan = __tsan_create_fiber(0);
#endif
  return 0;
}

void sl__fiber_destroy(sl__fiber *f) {
#ifdef SL__TSAN
  if (f->tsan && f->map)
    __tsan_destroy_fiber(f->tsan);
#endif
  if (f->map)
    munmap(f->map, f->map_len);
  memset(f, 0, sizeof *f);
}

void sl__fiber_adopt_thread(sl__fiber *f) {
  memset(f, 0, sizeof *f);
  pthread_attr_t attr;
  void *addr;
  size_t size;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      f->lo = addr;
      f->len = size;
    }
    pthread_attr_destroy(&attr);
  }
#ifdef SL__TSAN
  f->tsan = __tsan_get_current_fiber();
#endif
}

void sl__fiber_start_at(sl__fiber *f, void (*entry)(void *), void *arg) {
#if SL__FIBERS
  uintptr_t top = ((uintptr_t)f->lo + f->len) & ~(uintptr_t)15;
  uint64_t *sp = (uint64_t *)(top - 64);
  uint32_t csr[2];
  __asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(csr[0]), "=m"(csr[1]));
  memcpy(&sp[0], csr, sizeof csr);          /* mxcsr, x87 control word */
  sp[1] = 0;                                /* r15 */
  sp[2] = 0;                                /* r14 */
  sp[3] = (uint64_t)(uintptr_t)arg;         /* r13 */
  sp[4] = (uint64_t)(uintptr_t)entry;       /* r12 */
  sp[5] = 0;                                /* rbx */
  sp[6] = 0;                                /* rbp: ends frame-pointer walks */
  sp[7] = (uint64_t)(uintptr_t)sl__fiber_boot;
  f->sp = sp;
#else
  (void)f, (void)entry, (void)arg;
#endif
}

void sl__fiber_switch(sl__fiber *from, sl__fiber *to, bool from_done) {
#if SL__FIBERS
#ifdef SL__ASAN
  __sanitizer_start_switch_fiber(from_done ? NULL : &from->asan_fake, to->lo, to->len);
#else
  (void)from_done;
#endif
#ifdef SL__TSAN
  __tsan_switch_to_fiber(to->tsan, 0);
#endif
  sl__fiber_swap(&from->sp, to->sp);
#ifdef SL__ASAN
  __sanitizer_finish_switch_fiber(from->asan_fake, NULL, NULL);
#endif
#else
  (void)from, (void)to, (void)from_done;
#endif
}

void sl__fiber_entered(void) {
#ifdef SL__ASAN
  __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
}
