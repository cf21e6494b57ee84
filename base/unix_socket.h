/*
 * unix_socket.h — a stream connection to a Unix socket by path, the one
 * way every client side here connects (QMP's relay to QEMU, xenstored).
 */
#ifndef RTCDM_BASE_UNIX_SOCKET_H
#define RTCDM_BASE_UNIX_SOCKET_H

/* A SOCK_STREAM | SOCK_CLOEXEC socket (| flags, e.g. SOCK_NONBLOCK)
 * connected to path: the descriptor, or -1 with errno (ENAMETOOLONG when
 * path does not fit a socket address; nothing stays open). */
int dm_unix_connect(const char *path, int flags);

#endif
