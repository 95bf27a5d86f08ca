/*
 * stack_time.h - the core's clock, which it never reads: every call that
 * needs the time is handed it (stack.h, tcp.h).  One definition, for every
 * header that takes a time.
 */
#ifndef TCPIP_STACK_TIME_H
#define TCPIP_STACK_TIME_H

#include <stdint.h>

/* Milliseconds on a clock the caller chooses (monotonic in programs, virtual
 * in tests).  Only differences matter. */
typedef uint64_t stack_time_ms;
#define STACK_NO_DEADLINE UINT64_MAX

#endif
