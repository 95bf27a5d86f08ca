/*
 * event_emit.c - the event channel to the application: every layer tells
 * the program what it did or learned (stack.h's stack_event) through
 * event_emit(), and only here is the program's on_event called.  Wording an
 * event is event.c's.
 *
 * Limits: events are delivered at once, in the middle of the work that
 * raised them, with no queue; stack.h's stack_event_fn says what a callback
 * may do.
 */
#include "stack_impl.h"

void event_emit(struct stack *st, const struct stack_event *ev)
{
	if (st->cfg.on_event)
		st->cfg.on_event(st->cfg.event_ctx, ev);
}
