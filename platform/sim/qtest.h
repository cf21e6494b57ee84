/*
 * qtest.h — QEMU's qtest line protocol, served to one client.
 *
 * rtcdm connects to the client's listening UNIX socket (-qtest unix:PATH),
 * as QEMU does.  One command per line, words separated by blanks, numbers
 * in C notation (0x.. accepted).  Replies:
 *
 *   outb|outw|outl ADDR VAL   OK
 *   inb|inw|inl ADDR          OK 0x%04x (at least four hex digits)
 *   clock_step                OK <ns>: the clock moves to the next timer
 *                             deadline, or FAIL when none is pending
 *   clock_step NS             OK <ns>: now + NS; timers due fire in order
 *   clock_set NS              OK <ns>; FAIL if NS is behind the clock
 *   irq_intercept_in ioapic   OK (also irq_intercept_out; /machine/ioapic)
 *   endianness                OK little
 *   readb.., writeb.., read, write, memset, b64read, b64write
 *                             FAIL: there is no guest memory here
 *   set_irq_in ...            FAIL: IRQ 8 is driven by the RTC only
 *   anything else             FAIL Unknown command 'X'
 *
 * A malformed or out-of-range number, a missing or extra argument, or an
 * over-long line (more than DM_QTEST_MAX_LINE bytes) is answered with one
 * FAIL line and changes nothing.  After an intercept, IRQ level changes are
 * sent as "IRQ raise N" / "IRQ lower N" lines, before the reply of the
 * command that caused them; if the line is already raised when the
 * intercept is enabled, "IRQ raise 8" is sent at once so the client's view
 * starts right.
 */
#ifndef RTCDM_DM_QTEST_H
#define RTCDM_DM_QTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/log.h"
#include "base/loop.h"
#include "rtc/rtc.h" /* RTC_NO_DEADLINE */

#define DM_QTEST_MAX_LINE 4096u
#define DM_QTEST_OUT_SIZE 8192u

/* What the commands act on. */
struct dm_qtest_target_ops {
	uint32_t (*pio_read)(void *target, uint16_t port, unsigned size);
	void (*pio_write)(void *target, uint16_t port, unsigned size, uint32_t val);
	uint64_t (*clock_now)(void *target);
	/* RTC_NO_DEADLINE when no timer is armed. */
	uint64_t (*next_deadline)(void *target);
	/* Advance the clock to target, firing due timers.  0 or -errno. */
	int (*clock_warp)(void *target, uint64_t target_ns);
	/* Current level of an IRQ line (0 or 1). */
	int (*irq_level)(void *target, unsigned irq);
};

struct dm_qtest {
	const struct dm_qtest_target_ops *ops;
	void *target;
	const struct dm_log *log;
	bool irq_intercepted;
	/* replies and IRQ lines not yet written */
	char out[DM_QTEST_OUT_SIZE];
	size_t out_len;
	/* connection (fd -1 when used without one, e.g. in unit tests) */
	int fd;
	struct dm_loop *loop;
	char in[DM_QTEST_MAX_LINE + 1];
	size_t in_len;
	bool discarding; /* skipping the rest of an over-long line */
	bool in_command;
	int log_fd;      /* -qtest-log file, or -1 */
	uint64_t log_start_ns;
	/* called once when the peer goes away */
	void (*on_disconnect)(void *opaque);
	void *disconnect_opaque;
};

void dm_qtest_init(struct dm_qtest *q, const struct dm_qtest_target_ops *ops, void *target,
                   const struct dm_log *log);

/* Handle one command line (without its newline); the reply is appended to
 * q->out (and written out when connected). */
void dm_qtest_handle_line(struct dm_qtest *q, const char *line);

/* Report an IRQ level change (sent only after an intercept). */
void dm_qtest_irq(struct dm_qtest *q, unsigned irq, int level);

/*
 * Connect to the client's socket at path and open the dialogue log
 * (log_path NULL: the dialogue goes to the debug log).  Nothing is read
 * until dm_qtest_attach().  0 or -1 with a one-line reason in err.
 */
int dm_qtest_connect(struct dm_qtest *q, const char *path, const char *log_path, char *err,
                     size_t errlen);
/* Start serving commands from the loop. 0 or -errno. */
int dm_qtest_attach(struct dm_qtest *q, struct dm_loop *loop);
void dm_qtest_close(struct dm_qtest *q);

/* Feed received bytes (split into lines, each handled). */
void dm_qtest_feed(struct dm_qtest *q, const char *buf, size_t len);

#endif
