/*
 * exit_status.h — a child's end as rtcdm reports it (QEMU in companion mode,
 * the serving part): its exit status, or 128 + N after signal N, as a
 * shell reports it.
 */
#ifndef RTCDM_DM_EXIT_STATUS_H
#define RTCDM_DM_EXIT_STATUS_H

#include <sys/wait.h>

/* A waitpid() status as an exit status (1 when it is neither). */
static inline int dm_exit_status(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return 1;
}

#endif
